package dev.coffer.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DigestTest {

  private static final String SHA256_EMPTY =
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  private static final String SHA256_FOOBAR =
      "c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2";
  private static final String SHA384_EMPTY = "38b060a751ac96384cd9327eb1b1e36a21fdb71114be0743"
      + "4c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b";
  private static final String SHA512_ABC = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee6"
      + "4b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  @Test
  void computesKnownVectors() {
    assertThat(Digest.of(new byte[0]).toString()).isEqualTo("sha256:" + SHA256_EMPTY);
    assertThat(Digest.EMPTY_SHA256.hex()).isEqualTo(SHA256_EMPTY);
    assertThat(Digest.of(ascii("foobar")).toString()).isEqualTo("sha256:" + SHA256_FOOBAR);
    assertThat(Digest.of(DigestAlgorithm.SHA384, new byte[0]).toString())
        .isEqualTo("sha384:" + SHA384_EMPTY);
    assertThat(Digest.of(DigestAlgorithm.SHA512, ascii("abc")).toString())
        .isEqualTo("sha512:" + SHA512_ABC);
  }

  /**
   * The hash code is the same in every JVM (a record's own would mix in the algorithm enum's
   * identity hash), so that iterating a hash map of digests has one order everywhere: the
   * simulation's seeds depend on it (INV-10).
   */
  @Test
  void hashCodeIsTheSameInEveryJvm() {
    assertThat(Digest.EMPTY_SHA256.hashCode()).isEqualTo(830871422);
    assertThat(Digest.of(DigestAlgorithm.SHA384, new byte[0]).hashCode()).isEqualTo(652078767);
    assertThat(Digest.parse("sha256:" + SHA256_EMPTY)).hasSameHashCodeAs(Digest.EMPTY_SHA256);
  }

  @Test
  void computesFromStream() {
    assertThat(Digest.of(DigestAlgorithm.SHA256, new ByteArrayInputStream(ascii("foobar"))).hex())
        .isEqualTo(SHA256_FOOBAR);
    assertThat(Digest.of(DigestAlgorithm.SHA256, InputStream.nullInputStream()))
        .isEqualTo(Digest.EMPTY_SHA256);
    // Larger than the read buffer, so the hash spans several reads.
    byte[] big = new byte[300_000];
    new Random(7).nextBytes(big);
    for (DigestAlgorithm algorithm : DigestAlgorithm.values()) {
      assertThat(Digest.of(algorithm, new ByteArrayInputStream(big)))
          .isEqualTo(Digest.of(algorithm, big));
    }
  }

  @Test
  void streamFailureIsUnchecked() {
    InputStream failing = new InputStream() {
      @Override
      public int read() throws IOException {
        throw new IOException("disk gone");
      }
    };
    assertThatThrownBy(() -> Digest.of(DigestAlgorithm.SHA256, failing))
        .isInstanceOf(UncheckedIOException.class).hasRootCauseMessage("disk gone");
  }

  @Test
  void parsesEveryAlgorithm() {
    Digest sha256 = Digest.parse("sha256:" + SHA256_FOOBAR);
    assertThat(sha256.algorithm()).isEqualTo(DigestAlgorithm.SHA256);
    assertThat(sha256.hex()).isEqualTo(SHA256_FOOBAR);
    assertThat(sha256).isEqualTo(Digest.of(ascii("foobar")));
    assertThat(Digest.parse("sha384:" + SHA384_EMPTY).algorithm()).isEqualTo(DigestAlgorithm.SHA384);
    assertThat(Digest.parse("sha512:" + SHA512_ABC).algorithm()).isEqualTo(DigestAlgorithm.SHA512);
    assertThat(Digest.parse("sha512:" + SHA512_ABC).toString()).isEqualTo("sha512:" + SHA512_ABC);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "sha256",
      "sha256:",
      ":" + SHA256_EMPTY,
      "sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709",
      "SHA256:" + SHA256_EMPTY,
      "sha256:" + "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
      "sha256:" + SHA256_EMPTY + "0",
      "sha256:" + "g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
      "sha384:" + SHA256_EMPTY,
      "sha512:" + SHA384_EMPTY,
      "sha256:" + SHA256_EMPTY + "\n"})
  void refusesMalformedNamingTheValue(String value) {
    assertThatThrownBy(() -> Digest.parse(value))
        .isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining("\"" + value.replace("\n", "\\x0a") + "\"");
  }

  @Test
  void refusesNullAndEmpty() {
    assertThatThrownBy(() -> Digest.parse(null)).isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> Digest.parse("")).isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining("empty");
  }

  @Test
  void unsupportedAlgorithmIsNamed() {
    assertThatThrownBy(() -> Digest.parse("md5:d41d8cd98f00b204e9800998ecf8427e"))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("\"md5\"");
  }

  @Test
  void uppercaseHexIsRefusedByTheConstructorToo() {
    assertThatThrownBy(() -> new Digest(DigestAlgorithm.SHA256, SHA256_EMPTY.toUpperCase()))
        .isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining(SHA256_EMPTY.toUpperCase());
    assertThatThrownBy(() -> new Digest(null, SHA256_EMPTY))
        .isInstanceOf(InvalidArgumentException.class);
    assertThatThrownBy(() -> new Digest(DigestAlgorithm.SHA512, SHA256_EMPTY))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("128");
  }

  @Test
  void longValuesAreShortenedInMessages() {
    String value = "sha256:" + "a".repeat(5000);
    assertThatThrownBy(() -> Digest.parse(value))
        .isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining("(5007 chars)")
        .satisfies(e -> assertThat(e.getMessage().length()).isLessThan(400));
  }

  @Test
  void hashAndFromHasherRoundTrip() {
    Digest digest = Digest.of(ascii("foobar"));
    assertThat(digest.hash()).isEqualTo(HexFormat.of().parseHex(SHA256_FOOBAR));
    assertThat(Digest.fromHasher(DigestAlgorithm.SHA256, digest.hash())).isEqualTo(digest);
    assertThatThrownBy(() -> Digest.fromHasher(DigestAlgorithm.SHA384, digest.hash()))
        .isInstanceOf(InvalidArgumentException.class);
  }

  @Test
  void ordersByString() {
    Digest a = Digest.parse("sha256:" + "0".repeat(64));
    Digest b = Digest.parse("sha256:" + SHA256_EMPTY);
    Digest c = Digest.parse("sha512:" + SHA512_ABC);
    assertThat(a).isLessThan(b);
    assertThat(b).isLessThan(c);
    assertThat(a.compareTo(Digest.parse(a.toString()))).isZero();
  }

  @ParameterizedTest
  @CsvSource({"sha256, SHA256, 64", "sha384, SHA384, 96", "sha512, SHA512, 128"})
  void algorithmForLabel(String label, DigestAlgorithm algorithm, int hexLength) {
    assertThat(DigestAlgorithm.forLabel(label)).contains(algorithm);
    assertThat(algorithm.label()).isEqualTo(label);
    assertThat(algorithm.toString()).isEqualTo(label);
    assertThat(algorithm.hexLength()).isEqualTo(hexLength);
    assertThat(algorithm.byteLength()).isEqualTo(hexLength / 2);
    assertThat(algorithm.newHasher().getDigestLength()).isEqualTo(hexLength / 2);
  }

  @ParameterizedTest
  @ValueSource(strings = {"SHA256", "sha-256", "sha1", "md5", "", " sha256", "blake3"})
  void algorithmForUnknownLabelIsEmpty(String label) {
    assertThat(DigestAlgorithm.forLabel(label)).isEmpty();
  }

  @Test
  void algorithmForNullIsEmptyAndCanonicalIsSha256() {
    assertThat(DigestAlgorithm.forLabel(null)).isEmpty();
    assertThat(DigestAlgorithm.CANONICAL).isEqualTo(DigestAlgorithm.SHA256);
  }
}
