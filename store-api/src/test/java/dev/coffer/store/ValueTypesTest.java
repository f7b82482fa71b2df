package dev.coffer.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Validation and accessors of Descriptor, Info and Status. */
class ValueTypesTest {

  private static final Digest D1 = Digest.of(new byte[] {1});
  private static final Digest D2 = Digest.of(new byte[] {2});
  private static final Instant T0 = Instant.parse("2026-01-02T03:04:05.123456789Z");

  @Test
  void descriptorKnowsWhatIsGiven() {
    assertThat(Descriptor.UNKNOWN.digest()).isNull();
    assertThat(Descriptor.UNKNOWN.size()).isZero();
    assertThat(Descriptor.UNKNOWN.expected()).isEmpty();
    assertThat(Descriptor.of(D1, 7)).isEqualTo(new Descriptor(D1, 7));
    assertThat(Descriptor.of(D1).size()).isZero();
    assertThat(Descriptor.of(D1).expected()).contains(D1);
    assertThat(Descriptor.of(D1).requireDigest()).isEqualTo(D1);
  }

  @Test
  void descriptorRefusesNegativeSizeAndMissingDigestForReads() {
    assertThatThrownBy(() -> new Descriptor(D1, -1))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("-1");
    assertThatThrownBy(Descriptor.UNKNOWN::requireDigest)
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("no digest");
  }

  @Test
  void infoCopiesSortsAndFreezesLabelsAndLinks() {
    Map<String, String> labels = new HashMap<>(Map.of("b", "2", "a", "1"));
    Set<Digest> links = new LinkedHashSet<>(List.of(D2, D1));
    Info info = new Info(D1, 10, T0, T0, labels, 3, links);
    labels.put("c", "3");
    links.clear();
    assertThat(info.labels()).containsExactly(Map.entry("a", "1"), Map.entry("b", "2"));
    assertThat(info.links()).containsExactlyInAnyOrder(D1, D2);
    assertThat(info.links().iterator().next()).isEqualTo(D1.compareTo(D2) < 0 ? D1 : D2);
    assertThatThrownBy(() -> info.labels().put("x", "y"))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> info.links().add(D1)).isInstanceOf(UnsupportedOperationException.class);
    assertThat(info.descriptor()).isEqualTo(Descriptor.of(D1, 10));
    assertThat(info.createdAt()).isEqualTo(T0);
  }

  @Test
  void infoTreatsNullCollectionsAsEmpty() {
    Info info = new Info(D1, 0, T0, T0, null, 0, null);
    assertThat(info.labels()).isEmpty();
    assertThat(info.links()).isEmpty();
  }

  @Test
  void infoRefusesInvalidValues() {
    assertThatThrownBy(() -> new Info(D1, -5, T0, T0, Map.of(), 0, Set.of()))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("-5")
        .hasMessageContaining(D1.toString());
    assertThatThrownBy(() -> new Info(D1, 5, T0, T0, Map.of(), -1, Set.of()))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("reference count -1");
    assertThatThrownBy(() -> new Info(null, 5, T0, T0, Map.of(), 0, Set.of()))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("digest");
    assertThatThrownBy(() -> new Info(D1, 5, null, T0, Map.of(), 0, Set.of()))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("createdAt");
  }

  @Test
  void infoForUpdateAndWithLabels() {
    Info update = Info.forUpdate(D1, Map.of("k", "v"));
    assertThat(update.digest()).isEqualTo(D1);
    assertThat(update.labels()).isEqualTo(Map.of("k", "v"));
    Info full = new Info(D1, 10, T0, T0.plusSeconds(1), Map.of("a", "1"), 2, Set.of(D2));
    Info relabelled = full.withLabels(Map.of("z", "26"));
    assertThat(relabelled.labels()).isEqualTo(Map.of("z", "26"));
    assertThat(relabelled.withLabels(Map.of("a", "1"))).isEqualTo(full);
  }

  @Test
  void statusKeepsItsFields() {
    Status status = new Status("ref-1", 5, 10, D1, T0, T0.plusNanos(1));
    assertThat(status.expectedDigest()).contains(D1);
    assertThat(new Status("ref-1", 0, 0, null, T0, T0).expectedDigest()).isEmpty();
    assertThat(status.updatedAt()).isEqualTo(Instant.parse("2026-01-02T03:04:05.123456790Z"));
  }

  @Test
  void statusRefusesNegativeOffsetsNamingTheRef() {
    assertThatThrownBy(() -> new Status("ref-1", -1, 0, null, T0, T0))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("\"ref-1\"")
        .hasMessageContaining("offset -1");
    assertThatThrownBy(() -> new Status("ref-1", 0, -2, null, T0, T0))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("total -2");
    assertThatThrownBy(() -> new Status(null, 0, 0, null, T0, T0))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("ref");
  }

  @Test
  void onlyTransientErrorsAreRetryable() {
    assertThat(new UnavailableException("x").retryable()).isTrue();
    assertThat(new AbortedException("x").retryable()).isTrue();
    assertThat(new UnknownException("x").retryable()).isTrue();
    assertThat(new NotFoundException("x").retryable()).isFalse();
    assertThat(new AlreadyExistsException("x").retryable()).isFalse();
    assertThat(new FailedPreconditionException("x").retryable()).isFalse();
    assertThat(new InvalidArgumentException("x").retryable()).isFalse();
    assertThat(new PermissionDeniedException("x").retryable()).isFalse();
  }
}
