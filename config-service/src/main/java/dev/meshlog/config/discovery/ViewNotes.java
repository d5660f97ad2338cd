package dev.meshlog.config.discovery;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import dev.meshlog.config.model.Resource;
import dev.meshlog.config.model.ResourceId;
import dev.meshlog.events.discovery.ResourceRevision;
import dev.meshlog.events.discovery.ViewProblem;

/** What one view is made of: the resources that went into it and the problems found on the way. */
final class ViewNotes {

  private final Set<ResourceId> sources = new TreeSet<>();
  private final List<ViewProblem> problems = new ArrayList<>();

  /** {@code resource} went into the view (or was left out of it with a problem). */
  void use(Resource resource) {
    sources.add(resource.id());
  }

  /** Part of {@code resource} was left out of the view. */
  void problem(Resource resource, String path, String message) {
    use(resource);
    problems.add(ViewProblem.newBuilder()
        .setResource(resource.id().key()).setPath(path).setMessage(message).build());
  }

  /** Something in {@code resource} looks wrong but nothing was left out. */
  void warning(Resource resource, String path, String message) {
    problem(resource, path, CompiledView.WARNING + message);
  }

  void addAll(List<ViewProblem> found, Resource resource) {
    use(resource);
    problems.addAll(found);
  }

  List<ViewProblem> problems() {
    return List.copyOf(problems);
  }

  /** The revisions of every resource used, sorted by {@code Kind/namespace/name}. */
  List<ResourceRevision> revisions(java.util.function.ToLongFunction<ResourceId> revisionOf) {
    List<ResourceRevision> out = new ArrayList<>();
    for (ResourceId id : sources) {
      long revision = revisionOf.applyAsLong(id);
      out.add(ResourceRevision.newBuilder()
          .setKind(id.kind()).setNamespace(id.namespace()).setName(id.name()).setRevision(revision).build());
    }
    return out;
  }
}
