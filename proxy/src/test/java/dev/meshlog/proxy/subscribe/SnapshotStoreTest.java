package dev.meshlog.proxy.subscribe;

import static dev.meshlog.proxy.support.Views.endpoint;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.meshlog.events.discovery.ServiceView;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotStoreTest {

  @TempDir
  Path dir;

  @Test
  void readsBackTheViewsItSaved() throws IOException {
    SnapshotStore store = new SnapshotStore(dir.resolve("views.bin"));
    List<ServiceView> views = List.of(view("reviews").setVersion(4)
        .setEndpoints(List.of(endpoint(9001, "v1", "z"))).build(), view("ratings").build());

    store.save(views);

    assertThat(store.load()).isEqualTo(views);
  }

  @Test
  void loadsNothingWhenThereIsNoFile() throws IOException {
    assertThat(new SnapshotStore(dir.resolve("none.bin")).load()).isEmpty();
  }

  @Test
  void refusesAFileThatIsNotOneOfItsOwn() throws IOException {
    Path f = dir.resolve("views.bin");
    Files.writeString(f, "hello");

    assertThatThrownBy(() -> new SnapshotStore(f).load()).hasMessageContaining("bad header");
  }

  @Test
  void refusesATruncatedFile() throws IOException {
    SnapshotStore store = new SnapshotStore(dir.resolve("views.bin"));
    store.save(List.of(view("reviews").build()));
    byte[] bytes = Files.readAllBytes(store.file());
    Files.write(store.file(), java.util.Arrays.copyOf(bytes, bytes.length - 3));

    assertThatThrownBy(store::load).isInstanceOf(IOException.class);
  }
}
