package dev.meshlog.meshctl;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.meshlog.config.model.FieldProblem;
import dev.meshlog.config.model.Resource;
import dev.meshlog.config.resource.ParsedDocument;
import dev.meshlog.config.resource.ResourceParser;

/**
 * Reads the resources of {@code -f} files and directories (relative to meshctl's working
 * directory), printing the documents that are not resources as {@code file:line: path: message}.
 */
final class ResourceFiles {

  /**
   * What the files hold.
   *
   * @param resources the resources, in file and document order
   * @param problems how many documents could not be read
   */
  record Read(List<Resource> resources, int problems) {}

  private ResourceFiles() {}

  /** Reads {@code files}; prints every problem to {@code err}. */
  static Read read(List<Path> files, Path workingDirectory, String defaultNamespace,
                   PrintWriter err) {
    ResourceParser parser = new ResourceParser();
    List<Resource> resources = new ArrayList<>();
    int problems = 0;
    for (Path given : files) {
      Path file = workingDirectory.resolve(given);
      List<ParsedDocument> documents;
      try {
        documents = Files.isDirectory(file) ? parser.parseDirectory(file, defaultNamespace)
            : parser.parseFile(file, defaultNamespace);
      } catch (NoSuchFileException e) {
        err.println("error: " + given + ": no such file or directory");
        problems++;
        continue;
      } catch (IOException e) {
        err.println("error: " + given + ": " + e.getMessage());
        problems++;
        continue;
      }
      if (documents.isEmpty()) {
        err.println("error: " + given + ": no resources found");
        problems++;
      }
      for (ParsedDocument document : documents) {
        if (document.hasProblems()) {
          String where = display(document, workingDirectory);
          for (FieldProblem problem : document.problems()) {
            err.println(Output.errorLine(where, problem.path(), problem.message()));
          }
          problems++;
        } else {
          resources.add(document.resource());
        }
      }
    }
    return new Read(resources, problems);
  }

  /** {@code file:line}, relative to the working directory when the file is under it. */
  private static String display(ParsedDocument document, Path workingDirectory) {
    Path source = Path.of(document.source());
    if (source.isAbsolute() && source.startsWith(workingDirectory)) {
      return workingDirectory.relativize(source) + ":" + document.line();
    }
    return document.location();
  }
}
