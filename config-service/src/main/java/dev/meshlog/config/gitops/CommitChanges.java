package dev.meshlog.config.gitops;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import dev.meshlog.config.model.FieldProblem;
import dev.meshlog.config.model.Resource;
import dev.meshlog.config.model.ResourceId;
import dev.meshlog.config.resource.ParsedDocument;
import dev.meshlog.config.resource.ResourceParser;
import org.eclipse.jgit.diff.DiffEntry;
import org.eclipse.jgit.errors.LargeObjectException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevTree;
import org.eclipse.jgit.treewalk.EmptyTreeIterator;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.eclipse.jgit.treewalk.filter.AndTreeFilter;
import org.eclipse.jgit.treewalk.filter.PathFilter;
import org.eclipse.jgit.treewalk.filter.TreeFilter;

/**
 * What one commit changes in the config under a path: the resources added or changed (to
 * apply) and the resources that disappeared, whether their file was removed or only their
 * document (to delete). The files the commit touched are read, and, when they define or
 * defined a resource, the other files under the path: a resource still defined in one of them
 * is not deleted, and a resource defined in two places differently is an error, not applied.
 * Blobs are parsed through a {@link ParsedBlobs}: reading the other files costs a walk of the
 * tree, not their parse, when an earlier commit parsed them.
 *
 * @param applies resources to apply, each with the file it is in
 * @param deletes resources to delete, each with the file it was in
 * @param problems documents that could not be read, as {@code file:line: path: message}, and
 *     resources defined differently in two places (neither applied)
 * @param warnings resources defined more than once, identically (applied once)
 */
record CommitChanges(List<Located<Resource>> applies, List<Located<ResourceId>> deletes,
                     List<String> problems, List<String> warnings) {

  /** The largest file read: bigger files are reported, not parsed. */
  static final int MAX_FILE_BYTES = 16 << 20;

  /**
   * A value and the repository file it came from.
   *
   * @param value the resource or id
   * @param file the file's path in the repository
   */
  record Located<T>(T value, String file) {}

  /** Whether the commit changes nothing under the path. */
  boolean isEmpty() {
    return applies.isEmpty() && deletes.isEmpty() && problems.isEmpty() && warnings.isEmpty();
  }

  /**
   * The changes from {@code before} to {@code after} (null {@code before} = an empty tree).
   *
   * @param path the directory whose files are config ({@code ""} = all)
   */
  static CommitChanges between(Repository repo, RevTree before, RevTree after, String path,
                               ResourceParser parser, String defaultNamespace) throws IOException {
    return between(repo, before, after, path, new Reader(repo, parser, defaultNamespace,
        ParsedBlobs.none()));
  }

  /**
   * The changes from {@code before} to {@code after}, parsing each blob through
   * {@code parsed}: a file that a previous commit's reading parsed is not parsed again.
   */
  static CommitChanges between(Repository repo, RevTree before, RevTree after, String path,
                               ResourceParser parser, String defaultNamespace, ParsedBlobs parsed)
      throws IOException {
    return between(repo, before, after, path, new Reader(repo, parser, defaultNamespace, parsed));
  }

  private static CommitChanges between(Repository repo, RevTree before, RevTree after, String path,
                                       Reader reader) throws IOException {
    List<DiffEntry> diffs;
    try (TreeWalk walk = new TreeWalk(repo)) {
      walk.setRecursive(true);
      if (before == null) {
        walk.addTree(new EmptyTreeIterator());
      } else {
        walk.addTree(before);
      }
      walk.addTree(after);
      walk.setFilter(path.isEmpty() ? TreeFilter.ANY_DIFF
          : AndTreeFilter.create(PathFilter.create(path), TreeFilter.ANY_DIFF));
      diffs = DiffEntry.scan(walk);
    }
    Map<ResourceId, Located<Resource>> old = new LinkedHashMap<>();
    // Every definition in the files the commit touched, in file order: one resource may be
    // defined in two of them, or twice in one.
    Map<ResourceId, List<Located<Resource>>> now = new LinkedHashMap<>();
    Set<String> unreadable = new HashSet<>();
    List<String> problems = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    for (DiffEntry diff : diffs) {
      if (diff.getChangeType() != DiffEntry.ChangeType.ADD && isConfig(diff.getOldPath(), path)) {
        for (ParsedDocument doc : reader.read(diff.getOldId().toObjectId(), diff.getOldPath())) {
          if (!doc.hasProblems()) {
            old.put(doc.resource().id(), new Located<>(doc.resource(), diff.getOldPath()));
          }
        }
      }
      if (diff.getChangeType() != DiffEntry.ChangeType.DELETE && isConfig(diff.getNewPath(), path)) {
        for (ParsedDocument doc : reader.read(diff.getNewId().toObjectId(), diff.getNewPath())) {
          if (doc.hasProblems()) {
            unreadable.add(diff.getNewPath());
            for (FieldProblem p : doc.problems()) {
              problems.add(doc.location() + ": " + p);
            }
          } else {
            now.computeIfAbsent(doc.resource().id(), id -> new ArrayList<>())
                .add(new Located<>(doc.resource(), diff.getNewPath()));
          }
        }
      }
    }
    // The files the commit did not touch are read when they matter: a resource of the touched
    // files may be defined there too, and one gone from the touched files may still be.
    Map<ResourceId, List<Located<Resource>>> elsewhere = now.isEmpty() && old.isEmpty() ? Map.of()
        : definedInUntouchedFiles(repo, after, path, diffs, reader);
    List<Located<Resource>> applies = new ArrayList<>();
    now.forEach((id, definitions) -> {
      List<Located<Resource>> all = new ArrayList<>(elsewhere.getOrDefault(id, List.of()));
      all.addAll(definitions);
      Located<Resource> located = definitions.get(definitions.size() - 1);
      if (all.size() > 1) {
        // Argo CD takes the last and warns (RepeatedResourceWarning); which file is "last" says
        // nothing a user chose, so two different definitions apply neither.
        String files = files(all);
        if (all.stream().anyMatch(l -> !l.value().equals(located.value()))) {
          problems.add(id + " is defined differently " + files + ": not applied (expected: one"
              + " definition of a resource under the path)");
          return;
        }
        warnings.add(id + " is defined " + files + ", identically (keep one)");
      }
      Located<Resource> previous = old.get(id);
      if (previous == null || !previous.value().equals(located.value())) {
        applies.add(located);
      }
    });
    List<Located<ResourceId>> deletes = new ArrayList<>();
    old.forEach((id, located) -> {
      if (now.containsKey(id)) {
        return;
      }
      if (unreadable.contains(located.file())) {
        // Its file now has a document that cannot be read: it may still define the resource.
        problems.add(located.file() + ": " + id + " not deleted: the file has documents that"
            + " cannot be read (fix them and the next commit settles it)");
        return;
      }
      List<Located<Resource>> left = elsewhere.getOrDefault(id, List.of());
      if (left.isEmpty()) {
        deletes.add(new Located<>(id, located.file()));
      } else if (left.size() == 1 && !left.get(0).value().equals(located.value())) {
        // Still defined in a file the commit did not touch (a move in two commits keeps it), but
        // not as the copy removed: the one left is the definition now (a conflict resolved).
        applies.add(left.get(0));
      } else if (left.size() > 1 && left.stream().anyMatch(l -> !l.value().equals(left.get(0).value()))) {
        // Still defined in two untouched files, differently: the same error as two in the commit.
        problems.add(id + " is defined differently " + files(left) + ": not applied (expected: one"
            + " definition of a resource under the path)");
      }
    });
    return new CommitChanges(applies, deletes, problems, warnings);
  }

  /** "in a and b" for definitions in two files, "twice in a" for two in one. */
  private static String files(List<Located<Resource>> definitions) {
    List<String> files = definitions.stream().map(Located::file).distinct().sorted().toList();
    if (files.size() == 1) {
      return (definitions.size() == 2 ? "twice" : definitions.size() + " times") + " in "
          + files.get(0);
    }
    return "in " + String.join(", ", files.subList(0, files.size() - 1)) + " and "
        + files.get(files.size() - 1);
  }

  /** The resources in {@code tree}'s config files under {@code path} that no diff names. */
  private static Map<ResourceId, List<Located<Resource>>> definedInUntouchedFiles(
      Repository repo, RevTree tree, String path, List<DiffEntry> diffs, Reader reader)
      throws IOException {
    Set<String> touched = new HashSet<>();
    diffs.forEach(d -> touched.add(d.getNewPath()));
    Map<ResourceId, List<Located<Resource>>> found = new HashMap<>();
    try (TreeWalk walk = new TreeWalk(repo)) {
      walk.setRecursive(true);
      walk.addTree(tree);
      if (!path.isEmpty()) {
        walk.setFilter(PathFilter.create(path));
      }
      while (walk.next()) {
        String file = walk.getPathString();
        if (!touched.contains(file) && isConfig(file, path)) {
          for (ParsedDocument doc : reader.read(walk.getObjectId(0), file)) {
            if (!doc.hasProblems()) {
              found.computeIfAbsent(doc.resource().id(), id -> new ArrayList<>())
                  .add(new Located<>(doc.resource(), file));
            }
          }
        }
      }
    }
    return found;
  }

  /** YAML and JSON files under {@code path}, skipping hidden files and directories. */
  static boolean isConfig(String file, String path) {
    if (file == null || DiffEntry.DEV_NULL.equals(file)) {
      return false;
    }
    String relative = path.isEmpty() ? file : file.substring(Math.min(file.length(), path.length() + 1));
    for (String segment : relative.split("/")) {
      if (segment.startsWith(".")) {
        return false;
      }
    }
    String name = file.toLowerCase(Locale.ROOT);
    return name.endsWith(".yaml") || name.endsWith(".yml") || name.endsWith(".json");
  }

  /** Reads blobs into documents, through the cache of parsed blobs. */
  private record Reader(Repository repo, ResourceParser parser, String defaultNamespace,
                        ParsedBlobs parsed) {

    List<ParsedDocument> read(ObjectId blob, String file) throws IOException {
      List<ParsedDocument> cached = parsed.get(blob, file);
      if (cached != null) {
        return cached;
      }
      byte[] bytes;
      try {
        bytes = repo.open(blob, Constants.OBJ_BLOB).getCachedBytes(MAX_FILE_BYTES);
      } catch (LargeObjectException e) {
        return List.of(ParsedDocument.withProblems(file, 0, 1, List.of(FieldProblem.of("document",
            "file larger than " + MAX_FILE_BYTES + " bytes (expected: at most 16 MiB)"))));
      }
      List<ParsedDocument> documents;
      try {
        String text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        documents = parser.parse(text, file, defaultNamespace);
      } catch (CharacterCodingException e) {
        documents = List.of(ParsedDocument.withProblems(file, 0, 1,
            List.of(FieldProblem.of("document", "not UTF-8 text (expected: a UTF-8 file)"))));
      }
      parsed.put(blob, file, documents, bytes.length);
      return documents;
    }
  }
}
