package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the daemon declines: excluded commands, --debug, a differing checked variable. */
class DaemonPolicyTest {

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
    DaemonWire.Request elsewhere = new DaemonWire.Request(0, "/somewhere/else", List.of("ls"),
        env, true);
    assertThat(DaemonPolicy.decline(elsewhere, env))
        .contains("AWS_SHARED_CREDENTIALS_FILE is a relative path");
    DaemonWire.Request here = new DaemonWire.Request(0, Coffer.JVM_CWD.toString(), List.of("ls"),
        env, true);
    assertThat(DaemonPolicy.decline(here, env)).isEmpty();
  }

  @Test
  void aRelativeOrNonUtf8WorkingDirectoryIsDeclined() {
    Map<String, String> env = Map.of();
    assertThat(DaemonPolicy.decline(new DaemonWire.Request(0, "rel", List.of("ls"), env, true),
        env)).contains("the working directory is not absolute");
    assertThat(DaemonPolicy.decline(new DaemonWire.Request(0, "/x", List.of("ls"), env, false),
        env)).contains("an argument or the working directory is not UTF-8");
  }
}
