package dev.meshlog.proxy.subscribe;

import static dev.meshlog.proxy.support.Views.endpoint;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
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
  void saysTruncatedWithTheFileAndWhereWhenCutInsideAView() throws IOException {
    SnapshotStore store = new SnapshotStore(dir.resolve("views.bin"));
    store.save(List.of(view("reviews").build(), view("ratings").build()));
    byte[] bytes = Files.readAllBytes(store.file());
    Files.write(store.file(), Arrays.copyOf(bytes, bytes.length - 3));

    assertThatThrownBy(store::load).isInstanceOf(IOException.class)
        .hasMessageStartingWith(store.file() + ": truncated at byte " + (bytes.length - 3))
        .hasMessageContaining("view 2 of 2")
        .hasMessageNotContaining("corrupt");
  }

  @Test
  void saysTruncatedWhenCutBetweenViews() throws IOException {
    SnapshotStore store = new SnapshotStore(dir.resolve("views.bin"));
    store.save(List.of(view("reviews").build(), view("ratings").build()));
    byte[] bytes = Files.readAllBytes(store.file());
    int firstEnd = 16 + 4 + 4 + ByteBuffer.wrap(bytes, 20, 4).getInt();
    Files.write(store.file(), Arrays.copyOf(bytes, firstEnd + 2));

    assertThatThrownBy(store::load)
        .hasMessageStartingWith(store.file() + ": truncated at byte " + (firstEnd + 2))
        .hasMessageContaining("view 2 of 2");
  }

  @Test
  void saysTruncatedWhenCutInsideTheHeader() throws IOException {
    Path f = dir.resolve("views.bin");
    Files.writeString(f, "MESHLOG-VI");

    assertThatThrownBy(() -> new SnapshotStore(f).load())
        .hasMessageStartingWith(f + ": truncated at byte 10");
  }

  @Test
  void saysCorruptWhenAViewsBytesAreNotAView() throws IOException {
    SnapshotStore store = new SnapshotStore(dir.resolve("views.bin"));
    store.save(List.of(view("reviews").build()));
    byte[] bytes = Files.readAllBytes(store.file());
    // the view's single-object marker (C3 01) overwritten: whole, but not a view
    bytes[24] = 0;
    bytes[25] = 0;
    Files.write(store.file(), bytes);

    assertThatThrownBy(store::load)
        .hasMessageStartingWith(store.file() + ": corrupt view 1 of 1 at byte 20")
        .hasMessageNotContaining("truncated");
  }

  @Test
  void saysCorruptWhenAViewLengthIsImpossible() throws IOException {
    SnapshotStore store = new SnapshotStore(dir.resolve("views.bin"));
    store.save(List.of(view("reviews").build()));
    byte[] bytes = Files.readAllBytes(store.file());
    ByteBuffer.wrap(bytes).putInt(20, -5);
    Files.write(store.file(), bytes);

    assertThatThrownBy(store::load)
        .hasMessageStartingWith(store.file() + ": corrupt view 1 of 1 at byte 20: length -5");
  }
}
