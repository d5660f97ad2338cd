package dev.meshlog.meshctl;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;

import dev.meshlog.config.client.MeshClient;
import dev.meshlog.config.client.Outcome;
import dev.meshlog.config.gitops.CommitReport;
import dev.meshlog.config.gitops.GitCredentials;
import dev.meshlog.config.gitops.GitOpsBridge;
import dev.meshlog.config.gitops.GitSource;
import dev.meshlog.config.gitops.GitSshKey;
import dev.meshlog.config.gitops.GitUrls;
import dev.meshlog.config.gitops.SyncReport;
import dev.meshlog.events.config.ConfigCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code meshctl gitops sync|watch}: keeps the mesh's config in step with a git repository. */
@Command(name = "gitops", description = "Apply a git repository's config, commit by commit.",
    subcommands = {GitopsCommand.Sync.class, GitopsCommand.Watch.class})
final class GitopsCommand implements Runnable {

  /** The environment variable naming the file of the git password or access token. */
  static final String PASSWORD_FILE_ENV = "MESHLOG_GIT_PASSWORD_FILE";
  /** The environment variable holding the git user name. */
  static final String USERNAME_ENV = "MESHLOG_GIT_USERNAME";
  /** The environment variable naming the SSH private key file. */
  static final String SSH_KEY_FILE_ENV = "MESHLOG_GIT_SSH_KEY_FILE";
  /** The environment variable naming the file of the SSH key's passphrase. */
  static final String SSH_KEY_PASSPHRASE_FILE_ENV = "MESHLOG_GIT_SSH_KEY_PASSPHRASE_FILE";
  /** The environment variable naming the known_hosts file SSH servers' keys are checked in. */
  static final String KNOWN_HOSTS_FILE_ENV = "MESHLOG_GIT_KNOWN_HOSTS_FILE";

  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Options of both subcommands. */
  static final class SourceOptions {
    @Option(names = "--repo", required = true, paramLabel = "PATH_OR_URL",
        description = "The git repository: a local path or a URL")
    String repository;

    @Option(names = "--branch", paramLabel = "BRANCH",
        description = "The branch to follow (default: the repository's HEAD branch)")
    String branch;

    @Option(names = "--path", paramLabel = "DIR", defaultValue = "",
        description = "The directory in the repository whose YAML files are config (default: all)")
    String path;

    @Option(names = {"-n", "--namespace"}, defaultValue = "default",
        description = "Namespace of resources that name none (default: ${DEFAULT-VALUE})")
    String namespace;

    @Option(names = "--git-username", paramLabel = "USER",
        description = "The user for an HTTPS repository that needs credentials (default: "
            + "$MESHLOG_GIT_USERNAME, else git when a password is given)")
    String gitUsername;

    @Option(names = "--git-password-file", paramLabel = "FILE",
        description = "A file holding the password or access token for --git-username (default: "
            + "$MESHLOG_GIT_PASSWORD_FILE); never on the command line")
    Path gitPasswordFile;

    @Option(names = "--git-ssh-key", paramLabel = "FILE",
        description = "The OpenSSH private key (a deploy key) for an ssh:// or git@host:repo"
            + " repository (default: $MESHLOG_GIT_SSH_KEY_FILE); read again before each fetch")
    Path gitSshKey;

    @Option(names = "--git-ssh-key-passphrase-file", paramLabel = "FILE",
        description = "A file holding the passphrase of an encrypted --git-ssh-key (default: "
            + "$MESHLOG_GIT_SSH_KEY_PASSPHRASE_FILE)")
    Path gitSshKeyPassphraseFile;

    @Option(names = "--git-known-hosts", paramLabel = "FILE",
        description = "The known_hosts file an SSH server's key must be in, checked strictly"
            + " (default: $MESHLOG_GIT_KNOWN_HOSTS_FILE, else ~/.ssh/known_hosts and"
            + " /etc/ssh/ssh_known_hosts, read only)")
    Path gitKnownHosts;

    @Option(names = "--cache-dir", paramLabel = "DIR",
        description = "Where repositories are mirrored (default: $XDG_CACHE_HOME/meshlog/gitops "
            + "or ~/.cache/meshlog/gitops)")
    Path cacheDir;
  }

  /** What both subcommands do: open a bridge and print its reports. */
  abstract static class BridgeCommand extends MeshctlCommand {
    @Mixin
    SourceOptions options;

    GitOpsBridge bridge() {
      Environment env = root().environment();
      String repository = options.repository;
      Path local = env.workingDirectory().resolve(repository);
      if (!repository.contains("://") && Files.isDirectory(local)) {
        repository = local.toAbsolutePath().normalize().toString();
      }
      Supplier<GitCredentials> credentials = credentials(env, repository);
      String branch = options.branch != null ? options.branch
          : GitOpsBridge.defaultBranch(repository, credentials.get());
      GitOpsBridge bridge = new GitOpsBridge(new GitSource(repository, branch, options.path),
          credentials, root().kafkaConfig(), cacheDir(env), options.namespace, root().timeout,
          env.clock());
      // The bridge writes commands, as `apply` does: this build's schemas first — after the
      // options are checked, so that a usage error never waits for Kafka.
      try (MeshClient client = root().client()) {
        root().registerSchemas(client);
      } catch (RuntimeException e) {
        bridge.close();
        throw e;
      }
      return bridge;
    }

    /**
     * The credentials for {@code repository}, read at each fetch: {@code --git-password-file} (or
     * {@code $MESHLOG_GIT_PASSWORD_FILE}) with {@code --git-username} (or
     * {@code $MESHLOG_GIT_USERNAME}, else {@code git}); else those written in the URL, used with a
     * warning (a command line is seen by every user of the machine and kept in shell history);
     * both at once is a usage error, as is a user name without a password.
     */
    private Supplier<GitCredentials> credentials(Environment env, String repository) {
      if (GitUrls.isSsh(repository)) {
        return sshCredentials(env, repository);
      }
      for (Object[] flag : new Object[][] {{"--git-ssh-key", options.gitSshKey},
          {"--git-ssh-key-passphrase-file", options.gitSshKeyPassphraseFile},
          {"--git-known-hosts", options.gitKnownHosts}}) {
        if (flag[1] != null) {
          throw usage(flag[0] + " is for a repository over SSH, and --repo " + GitUrls.withoutCredentials(repository)
              + " is not one (expected: an ssh://host/repo or git@host:repo URL, or for HTTPS"
              + " --git-username and --git-password-file)");
        }
      }
      Path file = options.gitPasswordFile;
      String fileSource = "--git-password-file";
      if (file == null && env.get(PASSWORD_FILE_ENV) != null) {
        file = Path.of(env.get(PASSWORD_FILE_ENV));
        fileSource = "$" + PASSWORD_FILE_ENV;
      }
      String user = options.gitUsername != null ? options.gitUsername : env.get(USERNAME_ENV);
      Optional<GitCredentials> inUrl = GitUrls.credentials(repository);
      String shown = GitUrls.withoutCredentials(repository);
      if (file == null) {
        if (options.gitUsername != null) {
          throw usage("--git-username " + user + " without a password (expected: "
              + "--git-password-file FILE or $" + PASSWORD_FILE_ENV + ")");
        }
        if (inUrl.isPresent()) {
          err().println("warning: --repo " + shown + " carries credentials in its URL: they are"
              + " used, and recorded nowhere (the repository is recorded without them), but a"
              + " command line is visible to the machine's other users and kept in shell history"
              + " (expected: --git-username and --git-password-file, or $" + PASSWORD_FILE_ENV
              + ")");
          err().flush();
          GitCredentials fromUrl = inUrl.get();
          return warnIfInClear(repository, () -> fromUrl);
        }
        return GitCredentials::none;
      }
      if (inUrl.isPresent()) {
        throw usage("--repo " + shown + " carries credentials in its URL and " + fileSource
            + " gives a password too (expected: one of them, the file)");
      }
      Path resolved = env.workingDirectory().resolve(file);
      String username = user == null || user.isBlank() ? "git" : user.strip();
      String what = fileSource;
      try {
        GitCredentials.fromFile(username, resolved, what); // a bad file is a usage error now
      } catch (IllegalArgumentException e) {
        throw usage(e.getMessage());
      }
      // Read again before each fetch: a watch picks up a rotated token at its next sync.
      return warnIfInClear(repository, () -> GitCredentials.fromFile(username, resolved, what));
    }

    /**
     * The key and known hosts for an SSH {@code repository}: {@code --git-ssh-key} (or
     * {@code $MESHLOG_GIT_SSH_KEY_FILE}), its passphrase file if encrypted, and
     * {@code --git-known-hosts} (or {@code $MESHLOG_GIT_KNOWN_HOSTS_FILE}, else the user's
     * known_hosts files, as git reads them; never written). The files are checked now (a bad one
     * is a usage error) and read again before each fetch, so a watch uses a rotated key from its
     * next sync. HTTP(S) password flags are a usage error here; their environment variables are
     * ignored (set for another repository).
     */
    private Supplier<GitCredentials> sshCredentials(Environment env, String repository) {
      String shown = GitUrls.withoutCredentials(repository);
      if (options.gitPasswordFile != null || options.gitUsername != null) {
        throw usage((options.gitPasswordFile != null ? "--git-password-file" : "--git-username")
            + " is for a repository over HTTP(S), and --repo " + shown + " is over SSH"
            + " (expected: --git-ssh-key FILE, and --git-known-hosts FILE)");
      }
      if (!shown.equals(repository)) {
        throw usage("--repo " + shown + " carries a password in its URL (expected: an SSH key,"
            + " --git-ssh-key FILE)");
      }
      Path key = fileOption(env, options.gitSshKey, SSH_KEY_FILE_ENV);
      String keyWhat = options.gitSshKey != null ? "--git-ssh-key" : "$" + SSH_KEY_FILE_ENV;
      Path passphrase = fileOption(env, options.gitSshKeyPassphraseFile, SSH_KEY_PASSPHRASE_FILE_ENV);
      String passphraseWhat = options.gitSshKeyPassphraseFile != null
          ? "--git-ssh-key-passphrase-file" : "$" + SSH_KEY_PASSPHRASE_FILE_ENV;
      if (key == null && options.gitSshKeyPassphraseFile != null) {
        throw usage("--git-ssh-key-passphrase-file without a key (expected: --git-ssh-key FILE or $"
            + SSH_KEY_FILE_ENV + ")");
      }
      Path knownHostsFile = fileOption(env, options.gitKnownHosts, KNOWN_HOSTS_FILE_ENV);
      List<Path> knownHosts;
      if (knownHostsFile != null) {
        String what = options.gitKnownHosts != null ? "--git-known-hosts" : "$" + KNOWN_HOSTS_FILE_ENV;
        if (!Files.isRegularFile(knownHostsFile) || !Files.isReadable(knownHostsFile)) {
          throw usage(what + " " + knownHostsFile + ": not a readable file (expected: a known_hosts"
              + " file with the git host's key, e.g. from ssh-keyscan, checked out of band)");
        }
        knownHosts = List.of(knownHostsFile);
      } else {
        String home = env.get("HOME") != null ? env.get("HOME") : System.getProperty("user.home");
        knownHosts = List.of(Path.of(home, ".ssh", "known_hosts"), Path.of("/etc/ssh/ssh_known_hosts"));
      }
      if (key == null) {
        return () -> GitCredentials.ssh(null, knownHosts);
      }
      try {
        GitSshKey.fromFile(key, keyWhat, passphrase, passphraseWhat); // a bad file is a usage error now
      } catch (IllegalArgumentException e) {
        throw usage(e.getMessage());
      }
      return () -> GitCredentials.ssh(GitSshKey.fromFile(key, keyWhat, passphrase, passphraseWhat),
          knownHosts);
    }

    /** The file {@code flag} names, else the one {@code variable} names, resolved; or null. */
    private Path fileOption(Environment env, Path flag, String variable) {
      Path file = flag != null ? flag : env.get(variable) == null ? null : Path.of(env.get(variable));
      return file == null ? null : env.workingDirectory().resolve(file);
    }

    /** Warns when {@code credentials} would cross the network unencrypted. */
    private Supplier<GitCredentials> warnIfInClear(String repository,
                                                   Supplier<GitCredentials> credentials) {
      if (inClear(repository)) {
        err().println("warning: --repo " + GitUrls.withoutCredentials(repository) + " is plain"
            + " HTTP: the password or token crosses the network unencrypted (expected: https://)");
        err().flush();
      }
      return credentials;
    }

    private CommandLine.ParameterException usage(String message) {
      return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    private Path cacheDir(Environment env) {
      if (options.cacheDir != null) {
        return env.workingDirectory().resolve(options.cacheDir);
      }
      String xdg = env.get("XDG_CACHE_HOME");
      Path base = xdg != null ? Path.of(xdg)
          : Path.of(env.get("HOME") != null ? env.get("HOME") : System.getProperty("user.home"),
              ".cache");
      return base.resolve("meshlog").resolve("gitops");
    }
  }

  /** {@code meshctl gitops sync}: submits every new commit once, then exits. */
  @Command(name = "sync", description = "Submit every commit since the last one synced, then exit "
      + "(1 if a resource was rejected, unreadable or defined differently in two files; the sync still moves past it).")
  static final class Sync extends BridgeCommand {
    @Override
    public Integer call() {
      try (GitOpsBridge bridge = bridge()) {
        SyncReport report = bridge.sync();
        printReport(report, out());
        return report.clean() ? Meshctl.OK : Meshctl.FAILED;
      }
    }
  }

  /** {@code meshctl gitops watch}: syncs every interval until interrupted. */
  @Command(name = "watch", description = "Sync now and then every interval, until Ctrl-C.")
  static final class Watch extends BridgeCommand {
    @Option(names = "--interval", defaultValue = "10s", converter = Meshctl.DurationConverter.class,
        description = "Time between fetches (default: ${DEFAULT-VALUE})")
    Duration interval;

    @Override
    public Integer call() throws InterruptedException {
      CountDownLatch stop = new CountDownLatch(1);
      Thread hook = new Thread(stop::countDown, "meshctl-gitops-stop");
      Runtime.getRuntime().addShutdownHook(hook);
      try (GitOpsBridge bridge = bridge()) {
        out().println("watching " + bridge.source() + " every " + Output.duration(interval)
            + " (Ctrl-C to stop)");
        out().flush();
        bridge.watch(interval, report -> {
          printReport(report, out());
          out().flush();
        }, e -> {
          err().println("error: " + e.getMessage());
          err().flush();
        }, stop);
      } finally {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
          // the JVM is exiting: the hook has run
        }
      }
      return Meshctl.OK;
    }
  }

  /**
   * Whether credentials for {@code repository} would be sent unencrypted: a plain {@code http}
   * URL to a host other than this machine's loopback.
   */
  static boolean inClear(String repository) {
    if (!repository.regionMatches(true, 0, "http://", 0, 7)) {
      return false;
    }
    try {
      String host = java.net.URI.create(GitUrls.withoutCredentials(repository)).getHost();
      if (host == null) {
        return true;
      }
      String bare = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
      return !(bare.equalsIgnoreCase("localhost") || bare.startsWith("127.") || bare.equals("::1"));
    } catch (IllegalArgumentException e) {
      return true;
    }
  }

  /** Prints one block per commit, then a summary line. */
  static void printReport(SyncReport report, PrintWriter out) {
    report.notes().forEach(note -> out.println("note: " + note));
    for (CommitReport commit : report.commits()) {
      out.println("commit " + commit.shortId() + " " + commit.message() + " (" + commit.author() + ")");
      for (Outcome outcome : commit.outcomes()) {
        if (outcome.accepted()) {
          out.println("  " + Output.resultLine(outcome));
        } else if (commit.rejections().contains(outcome)) {
          String file = outcome.command().getSource() == null ? null
              : outcome.command().getSource().getPath();
          String where = file == null ? "" : file + ": ";
          Output.errorLines(outcome).forEach(line -> out.println("  error: " + where + line));
        } else {
          out.println("  " + Output.kubectlName(outcome.resource()) + " already deleted");
        }
      }
      commit.problems().forEach(problem -> out.println("  error: " + problem));
      commit.warnings().forEach(warning -> out.println("  warning: " + warning));
      for (ConfigCommand command : commit.unanswered()) {
        out.println("  pending: " + command.getResource().getKind() + "/"
            + command.getResource().getNamespace() + "/" + command.getResource().getName()
            + " (" + command.getOperation() + ") got no answer yet");
      }
      if (!commit.clean()) {
        out.println("  commit " + commit.shortId() + ": " + commit.rejections().size()
            + " rejected, " + commit.problems().size() + " not read or not applied, "
            + commit.unanswered().size() + " unanswered; its other changes applied and the sync"
            + " moved past it");
      }
    }
    String to = report.toCommit() == null ? "(no commits)" : shortId(report.toCommit());
    if (report.commits().isEmpty() && report.notes().isEmpty()) {
      out.println(report.source() + " is up to date at " + to);
    } else {
      out.println("synced " + report.source() + " to " + to + ": " + report.commits().size()
          + " commit(s) with config changes" + (report.clean() ? "" : ", some with errors"));
    }
  }

  private static String shortId(String commitId) {
    return commitId.substring(0, Math.min(7, commitId.length()));
  }
}
