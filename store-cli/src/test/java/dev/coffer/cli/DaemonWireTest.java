package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The request codec and frames of the daemon's wire protocol v2, and v1's requests. */
class DaemonWireTest {

  @Test
  void aRequestIsReadAsSentAndNothingAfterIt() throws Exception {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("HOME", "/home/u");
    env.put("EMPTY", "");
    env.put("EQ", "a=b");
    byte[] request = DaemonClient.request(5, 077, Path.of("/w/d"), List.of("put", "-l", "k=é"),
        env);
    byte[] withMore = Arrays.copyOf(request, request.length + 3);
    ByteArrayInputStream in = new ByteArrayInputStream(withMore);

    DaemonWire.Request read = DaemonWire.readRequest(in);

    assertThat(read.flags()).isEqualTo(5);
    assertThat(read.umask()).hasValue(077);
    assertThat(read.stderrTerminal()).isTrue();
    assertThat(read.cwd()).isEqualTo("/w/d");
    assertThat(read.args()).containsExactly("put", "-l", "k=é");
    assertThat(read.env()).containsExactlyEntriesOf(env);
    assertThat(read.text()).isTrue();
    assertThat(in.available()).as("the bytes after the request are left").isEqualTo(3);
  }

  @Test
  void aVersion1RequestIsReadWithoutAUmask() throws Exception {
    Map<String, String> env = Map.of("HOME", "/home/u");
    byte[] request = DaemonClient.request(1, null, Path.of("/w"), List.of("ls"), env);
    byte[] withMore = Arrays.copyOf(request, request.length + 2);
    ByteArrayInputStream in = new ByteArrayInputStream(withMore);

    DaemonWire.Request read = DaemonWire.readRequest(in);

    assertThat(read.umask()).isEmpty();
    assertThat(read.flags()).isEqualTo(1);
    assertThat(read.cwd()).isEqualTo("/w");
    assertThat(read.args()).containsExactly("ls");
    assertThat(read.env()).containsExactlyEntriesOf(env);
    assertThat(in.available()).isEqualTo(2);
  }

  @Test
  void aUmaskOver0777IsAMalformedRequest() throws Exception {
    assertThat(DaemonWire.readRequest(new ByteArrayInputStream(DaemonClient.request(0, 0777,
        Path.of("/"), List.of("ls"), Map.of()))).umask()).hasValue(0777);
    for (int umask : new int[] {01000, 02022, -1}) {
      byte[] request = DaemonClient.request(0, umask, Path.of("/"), List.of("ls"), Map.of());
      assertThatThrownBy(() -> DaemonWire.readRequest(new ByteArrayInputStream(request)))
          .as(Integer.toOctalString(umask))
          .isInstanceOf(DaemonWire.MalformedRequestException.class)
          .hasMessageContaining("umask");
    }
  }

  @Test
  void anArgumentThatIsNotUtf8IsMarked() throws Exception {
    ByteBuffer request = ByteBuffer.allocate(4 + 8 + 5 + 4 + 6 + 4)
        .put(DaemonWire.MAGIC).putInt(0).putInt(022).putInt(1).put((byte) '/')
        .putInt(1).putInt(2).put(new byte[] {'x', (byte) 0xe9}).putInt(0);

    DaemonWire.Request read = DaemonWire.readRequest(new ByteArrayInputStream(request.array()));

    assertThat(read.text()).isFalse();
  }

  @Test
  void malformedAndOversizedRequestsAreRefused() {
    assertThatThrownBy(() -> DaemonWire.readRequest(new ByteArrayInputStream(
        "CFD3\0\0\0\0".getBytes()))).isInstanceOf(DaemonWire.MalformedRequestException.class);
    byte[] longString = ByteBuffer.allocate(16).put(DaemonWire.MAGIC).putInt(0).putInt(022)
        .putInt(DaemonWire.MAX_STRING + 1).array();
    assertThatThrownBy(() -> DaemonWire.readRequest(new ByteArrayInputStream(longString)))
        .isInstanceOf(DaemonWire.MalformedRequestException.class).hasMessageContaining("string");
    byte[] manyEnv = ByteBuffer.allocate(24).put(DaemonWire.MAGIC).putInt(0).putInt(022)
        .putInt(0).putInt(0).putInt(-1).array();
    assertThatThrownBy(() -> DaemonWire.readRequest(new ByteArrayInputStream(manyEnv)))
        .isInstanceOf(DaemonWire.MalformedRequestException.class).hasMessageContaining("envc");
    byte[] cut = Arrays.copyOf(DaemonClient.request(0, Path.of("/"), List.of("ls"), Map.of()), 19);
    assertThatThrownBy(() -> DaemonWire.readRequest(new ByteArrayInputStream(cut)))
        .isInstanceOf(EOFException.class);
  }

  @Test
  void aRequestOverItsTotalBoundIsRefusedBeforeItIsRead() {
    // 17 arguments of 1 MiB each: every part within its bound, the whole over 16 MiB.
    ByteBuffer head = ByteBuffer.allocate(21).put(DaemonWire.MAGIC).putInt(0).putInt(022)
        .putInt(1).put((byte) '/').putInt(17);
    java.io.InputStream endless = new java.io.SequenceInputStream(
        new ByteArrayInputStream(head.array()), new java.io.InputStream() {
          private int at;

          @Override
          public int read() {
            // each argument: its length (1 MiB), then zeros
            int inArg = at++ % (4 + DaemonWire.MAX_STRING);
            return inArg == 1 ? 0x10 : 0; // 0x00100000
          }
        });
    assertThatThrownBy(() -> DaemonWire.readRequest(endless))
        .isInstanceOf(DaemonWire.MalformedRequestException.class)
        .hasMessageContaining("request over");
  }

  @Test
  void framesCarryTypeLengthAndPayload() {
    assertThat(DaemonWire.frame(DaemonWire.EXIT, 4))
        .containsExactly('X', 0, 0, 0, 4, 0, 0, 0, 4);
    assertThat(DaemonWire.frame(DaemonWire.DECLINED, "busy"))
        .containsExactly('D', 0, 0, 0, 4, 'b', 'u', 's', 'y');
    assertThat(DaemonWire.frame(DaemonWire.ACCEPTED, new byte[0], 0, 0))
        .containsExactly('A', 0, 0, 0, 0);
    assertThatThrownBy(() -> DaemonWire.frame(DaemonWire.STDOUT,
        new byte[DaemonWire.MAX_PAYLOAD + 1], 0, DaemonWire.MAX_PAYLOAD + 1))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
