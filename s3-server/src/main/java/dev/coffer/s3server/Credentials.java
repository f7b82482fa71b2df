package dev.coffer.s3server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The one access key the embedded server accepts (invariant SEC-10 of docs/architecture.md). Kept
 * in a file in the AWS shared credentials format, profile {@code default}, so other S3 clients can
 * use it ({@code AWS_SHARED_CREDENTIALS_FILE=<file>}); the file is created {@code 0600} and refused
 * if its group or others may read or write it.
 *
 * @param accessKeyId the access key id: 20 upper-case letters and digits
 * @param secretAccessKey the secret: 40 characters
 */
public record Credentials(String accessKeyId, String secretAccessKey) {
  private static final Pattern ACCESS_KEY = Pattern.compile("[A-Z0-9]{16,128}");
  private static final Pattern SECRET = Pattern.compile("[A-Za-z0-9+/=_-]{30,128}");
  private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  private static final SecureRandom RANDOM = new SecureRandom();

  /**
   * @throws IllegalArgumentException if the id is not 16 to 128 upper-case letters and digits, or
   *     the secret not 30 to 128 base64 characters
   */
  public Credentials {
    Objects.requireNonNull(accessKeyId, "accessKeyId");
    Objects.requireNonNull(secretAccessKey, "secretAccessKey");
    if (!ACCESS_KEY.matcher(accessKeyId).matches()) {
      throw new IllegalArgumentException("invalid access key id \"" + accessKeyId + "\"");
    }
    if (!SECRET.matcher(secretAccessKey).matches()) {
      throw new IllegalArgumentException("invalid secret access key (not 30 to 128 base64"
          + " characters)");
    }
  }

  /** New credentials from a strong random source: a 100-bit id and a 240-bit secret. */
  public static Credentials random() {
    StringBuilder id = new StringBuilder("CFR");
    for (int i = 0; i < 17; i++) {
      id.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
    }
    byte[] secret = new byte[30];
    RANDOM.nextBytes(secret);
    return new Credentials(id.toString(), Base64.getEncoder().encodeToString(secret));
  }

  /**
   * The credentials in {@code file}; if there is none, new {@link #random()} ones written there
   * first (mode 0600 from its creation: a temporary file created with that mode and renamed into
   * place, never replacing a file another process wrote meanwhile).
   *
   * @throws IOException if the file cannot be read or written, is not a regular file, its group or
   *     others have any permission on it, or it holds no valid credentials
   */
  public static Credentials loadOrCreate(Path file) throws IOException {
    if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
      Credentials fresh = random();
      Path temp = file.resolveSibling("." + file.getFileName() + "." + ProcessHandle.current().pid()
          + ".tmp");
      Files.deleteIfExists(temp);
      try {
        Files.createFile(temp, PosixFilePermissions.asFileAttribute(
            PosixFilePermissions.fromString("rw-------")));
      } catch (UnsupportedOperationException e) {
        Files.createFile(temp);
      }
      try {
        Files.writeString(temp, fresh.fileText(), StandardCharsets.UTF_8);
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException e) {
        // Another process wrote its own first: use that one.
      } finally {
        Files.deleteIfExists(temp);
      }
    }
    return read(file);
  }

  /**
   * The credentials in {@code file}.
   *
   * @throws IOException if it cannot be read, is not a regular file, its group or others have any
   *     permission on it, or it holds no valid credentials
   */
  public static Credentials read(Path file) throws IOException {
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(file + " is not a regular file");
    }
    try {
      Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file,
          LinkOption.NOFOLLOW_LINKS);
      permissions.retainAll(EnumSet.of(PosixFilePermission.GROUP_READ,
          PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
          PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE,
          PosixFilePermission.OTHERS_EXECUTE));
      if (!permissions.isEmpty()) {
        throw new IOException(file + " may be read or written by others ("
            + PosixFilePermissions.toString(Files.getPosixFilePermissions(file,
            LinkOption.NOFOLLOW_LINKS)) + "); make it private with: chmod 600 " + file);
      }
    } catch (UnsupportedOperationException e) {
      // Not a POSIX file system: nothing to check.
    }
    String id = null;
    String secret = null;
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      int eq = line.indexOf('=');
      if (line.startsWith("#") || eq < 0) {
        continue;
      }
      String name = line.substring(0, eq).trim();
      String value = line.substring(eq + 1).trim();
      if (name.equals("aws_access_key_id")) {
        id = value;
      } else if (name.equals("aws_secret_access_key")) {
        secret = value;
      }
    }
    if (id == null || secret == null) {
      throw new IOException(file + " names no aws_access_key_id and aws_secret_access_key");
    }
    try {
      return new Credentials(id, secret);
    } catch (IllegalArgumentException e) {
      throw new IOException(file + ": " + e.getMessage(), e);
    }
  }

  private String fileText() {
    return "# The embedded S3 server's credentials, this installation's own. Keep it private.\n"
        + "[default]\n"
        + "aws_access_key_id = " + accessKeyId + "\n"
        + "aws_secret_access_key = " + secretAccessKey + "\n";
  }

  /** The access key id; never the secret. */
  @Override
  public String toString() {
    return "Credentials[accessKeyId=" + accessKeyId + ", secretAccessKey=<hidden>]";
  }
}
