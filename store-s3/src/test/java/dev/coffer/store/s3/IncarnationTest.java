package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.Info;
import dev.coffer.store.NotFoundException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A reference belongs to one incarnation of a blob (docs/architecture.md, PROTO-1): once the blob
 * was deleted and committed anew, a reference of the old life, held by a link or by a holder, is
 * never spent on the new one.
 */
class IncarnationTest extends SimStoreTestBase {

  /** The trace of issue 17, item 1, as the command line ran it on S3Mock. */
  @Test
  void aLinkToAnEarlierIncarnationDoesNotSpendTheNewOnesReference() {
    ContentStore store = open("h");
    byte[] bBytes = random(100, 1);
    Digest b = store.put(bBytes, null, Map.of()).digest();
    store.ref(b);
    Digest a = store.put(random(100, 2), null, Map.of()).digest();
    store.ref(a);
    store.link(b, a); // a links to b: the reference taken on b passes to the link
    store.delete(b);
    store.put(bBytes, null, Map.of());
    assertThat(store.ref(b).refCount()).isEqualTo(1);

    store.deref(a); // a goes; its link held a reference of b's first life, not of this one

    assertThat(store.info(b).refCount()).isEqualTo(1);
    assertThat(read(store, b)).isEqualTo(bBytes);
  }

  @Test
  void unlinkOfALinkToAnEarlierIncarnationLeavesTheNewOneAlone() {
    ContentStore store = open("h");
    byte[] bBytes = random(100, 3);
    Digest b = store.putAndRef(bBytes, null, Map.of()).digest();
    Digest a = store.putAndRef(random(100, 4), null, Map.of()).digest();
    store.link(b, a);
    store.delete(b);
    store.putAndRef(bBytes, null, Map.of());

    store.unlink(b, a);

    assertThat(store.info(b).refCount()).isEqualTo(1);
    assertThat(store.info(a).links()).isEmpty();
  }

  @Test
  void aDerefOfAnEarlierIncarnationIsNotFoundAndChangesNothing() {
    ContentStore host1 = open("h1");
    ContentStore host2 = open("h2");
    byte[] bytes = random(100, 5);
    Info first = host1.putAndRef(bytes, null, Map.of());
    host2.delete(first.digest());
    Info second = host2.putAndRef(bytes, null, Map.of());
    assertThat(second.incarnation()).isNotEqualTo(first.incarnation()).isNotZero();

    assertThatThrownBy(() -> host1.deref(first.digest(), first.incarnation()))
        .isInstanceOf(NotFoundException.class).hasMessageContaining(first.digest().toString());

    assertThat(host2.info(first.digest()).refCount()).isEqualTo(1);
    host2.deref(second.digest(), second.incarnation());
    assertThatThrownBy(() -> host2.info(first.digest())).isInstanceOf(NotFoundException.class);
  }

  @Test
  void referencesAndLabelsKeepTheIncarnationAndAResurrectionChangesIt() {
    ContentStore store = open("h");
    byte[] bytes = random(100, 6);
    Info created = store.putAndRef(bytes, null, Map.of());
    assertThat(created.incarnation()).isNotZero();
    assertThat(store.ref(created.digest()).incarnation()).isEqualTo(created.incarnation());
    assertThat(store.putAndRef(bytes, null, Map.of()).incarnation())
        .isEqualTo(created.incarnation());
    assertThat(store.info(created.digest()).incarnation()).isEqualTo(created.incarnation());
    store.delete(created.digest());
    assertThat(store.putAndRef(bytes, null, Map.of()).incarnation())
        .isNotEqualTo(created.incarnation());
  }
}
