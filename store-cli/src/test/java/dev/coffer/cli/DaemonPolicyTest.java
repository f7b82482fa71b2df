package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/**
 * What the daemon declines: excluded commands, --debug, a differing checked variable, a umask
 * other than its own or none.
 */
class DaemonPolicyTest {
  private static final OptionalInt UMASK = OptionalInt.of(022);

  @Test
  void aUmaskOtherThanTheDaemonsOrNoneIsDeclined() {
    Map<String, String> env = Map.of("HOME", "/h");
    DaemonWire.Request request = new DaemonWire.Request(0, OptionalInt.of(077), "/w",
        List.of("get", "-o", "f", "sha256:00"), env, true);
    assertThat(DaemonPolicy.decline(request, env, 022))
        .contains("umask 0077 differs from the daemon's 0022");
    assertThat(DaemonPolicy.decline(request, env, 077)).isEmpty();
    assertThat(DaemonPolicy.decline(new DaemonWire.Request(0, OptionalInt.of(0), "/w",
        List.of("--version"), env, true), env, 022))
        .as("whatever the command: any may create files, or start a process")
        .contains("umask 0000 differs from the daemon's 0022");

    DaemonWire.Request old = new DaemonWire.Request(0, OptionalInt.empty(), "/w",
        List.of("ls"), env, true);
    for (int daemon : new int[] {0, 022, 077}) {
      assertThat(DaemonPolicy.decline(old, env, daemon)).as("never guessed")
          .contains("the client sent no umask (an older client)");
    }
  }

  @Test
  void aRequestsUmaskIsOneOr0777AtMost() {
    assertThatThrownBy(() -> new DaemonWire.Request(0, OptionalInt.of(01000), "/w", List.of(),
        Map.of(), true)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new DaemonWire.Request(0, OptionalInt.of(-1), "/w", List.of(),
        Map.of(), true)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void excludedCommandsAreFoundWhereverTheCommandIs() {
    assertThat(DaemonPolicy.declineCommand(List.of("serve", "--containerd-socket", "s")))
        .contains("serve runs in a JVM of its own");
    assertThat(DaemonPolicy.declineCommand(List.of("gc", "-n"))).isPresent();
    assertThat(DaemonPolicy.declineCommand(List.of("fsck"))).isPresent();
    assertThat(DaemonPolicy.declineCommand(List.of("daemon", "stop"))).isPresent();
    assertThat(DaemonPolicy.declineCommand(List.of("stats", "--json", "fsck"))).isPresent();
    assertThat(DaemonPolicy.declineCommand(List.of("get", "--debug", "d"))).isPresent();
    assertThat(DaemonPolicy.declineCommand(List.of("ls", "--debug=true"))).isPresent();

    assertThat(DaemonPolicy.declineCommand(List.of("put", "gc"))).as("a file named gc").isEmpty();
    assertThat(DaemonPolicy.declineCommand(List.of("--version"))).isEmpty();
    assertThat(DaemonPolicy.declineCommand(List.of("get", "--help"))).isEmpty();
    assertThat(DaemonPolicy.declineCommand(List.of())).isEmpty();
  }

  @Test
  void theCheckedVariablesAreTheLaunchersKeyWithTheLocaleAndTimeZone() {
    for (String name : List.of("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "COFFER_BUCKET",
        "COFFER_DAEMON_VERBOSE", "HOME", "TMPDIR", "JAVA_HOME", "http_proxy", "HTTPS_PROXY",
        "no_proxy", "NO_PROXY", "LANG", "LC_ALL", "LC_CTYPE", "TZ")) {
      assertThat(DaemonPolicy.checked(name)).as(name).isTrue();
    }
    for (String name : List.of("COFFER_DAEMON", "COFFER_DAEMON_IDLE", "PATH", "COLUMNS", "TERM",
        "PWD", "OLDPWD", "SHLVL")) {
      assertThat(DaemonPolicy.checked(name)).as(name).isFalse();
    }
  }

  @Test
  void aVariableSetOnOneSideOnlyDiffers() {
    Map<String, String> daemon = Map.of("HOME", "/h", "AWS_REGION", "eu-west-1", "PATH", "/a");
    assertThat(DaemonPolicy.differing(Map.of("HOME", "/h", "AWS_REGION", "eu-west-1",
        "PATH", "/b"), daemon)).isEmpty();
    assertThat(DaemonPolicy.differing(Map.of("HOME", "/h", "AWS_PROFILE", "x"), daemon))
        .containsExactly("AWS_PROFILE", "AWS_REGION");
  }

  @Test
  void aRelativeAwsFileVariableIsDeclinedForAnotherDirectory() {
    Map<String, String> env = Map.of("HOME", "/h", "AWS_SHARED_CREDENTIALS_FILE", "creds");
    DaemonWire.Request elsewhere = new DaemonWire.Request(0, UMASK, "/somewhere/else",
        List.of("ls"), env, true);
    assertThat(DaemonPolicy.decline(elsewhere, env, 022))
        .contains("AWS_SHARED_CREDENTIALS_FILE is a relative path");
    DaemonWire.Request here = new DaemonWire.Request(0, UMASK, Coffer.JVM_CWD.toString(),
        List.of("ls"), env, true);
    assertThat(DaemonPolicy.decline(here, env, 022)).isEmpty();
  }

  @Test
  void aRelativeOrNonUtf8WorkingDirectoryIsDeclined() {
    Map<String, String> env = Map.of();
    assertThat(DaemonPolicy.decline(new DaemonWire.Request(0, UMASK, "rel", List.of("ls"), env,
        true), env, 022)).contains("the working directory is not absolute");
    assertThat(DaemonPolicy.decline(new DaemonWire.Request(0, UMASK, "/x", List.of("ls"), env,
        false), env, 022)).contains("an argument or the working directory is not UTF-8");
  }
}
