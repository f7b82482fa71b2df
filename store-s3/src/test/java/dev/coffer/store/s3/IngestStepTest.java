package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The pure step between durable states of an ingest (INT-1), without S3. */
class IngestStepTest {
  private static final long MIB = 1024 * 1024;

  private static IngestRecord recordAt(long offset, String dataKey) {
    IngestRecord started = IngestRecord.start("ref", 0, null, 10, "host-1", 1_000);
    IngestRecord uploading = started.withUpload("upload-1", "k/3-a", 3);
    return dataKey == null ? uploading
        : uploading.withData(offset, 20, 2, dataKey, "\"etag-old\"");
  }

  @Test
  void pointingAtANewObjectNamesItDropsTheUploadAndMakesTheOldObjectObsolete() {
    IngestRecord current = recordAt(6 * MIB, "k/2-a").withUpload("upload-1", "k/3-a", 3);
    IngestData data = new IngestData("k/3-a", "\"etag-new\"", 3, 20 * MIB);

    IngestStep step = IngestStep.toData(current, data, 20 * MIB, 99);

    assertThat(step.next()).isEqualTo(new IngestRecord(IngestRecord.VERSION, "ref", 0, null,
        current.algorithm(), 10, 99, 20 * MIB, 3, "k/3-a", "\"etag-new\"", null, null,
        "host-1", 1_000));
    assertThat(step.obsoleteKey()).isEqualTo("k/2-a");
    assertThat(step.prefixKey()).isEqualTo("k/3-a");
  }

  @Test
  void theSameObjectIsNeverObsolete() {
    IngestRecord current = recordAt(6 * MIB, "k/2-a");
    IngestData data = new IngestData("k/2-a", "\"etag-old\"", 2, 6 * MIB);

    IngestStep step = IngestStep.toData(current, data, 6 * MIB, 20);

    assertThat(step.obsoleteKey()).isNull();
    assertThat(step.next().dataKey()).isEqualTo("k/2-a");
    assertThat(step.next().offset()).isEqualTo(6 * MIB);
  }

  @Test
  void anObjectBelowOnePartIsNoPrefix() {
    IngestData data = new IngestData("k/1-a", "\"e\"", 1, S3Store.minPart() - 1);

    IngestStep step = IngestStep.toData(recordAt(0, null), data, S3Store.minPart() - 1, 20);

    assertThat(step.prefixKey()).isNull();
    assertThat(step.obsoleteKey()).isNull();
    assertThat(step.next().offset()).isEqualTo(S3Store.minPart() - 1);
    assertThat(step.next().generation()).isEqualTo(1);
  }

  @Test
  void noBytesClearTheRecordAndKeepItsGeneration() {
    IngestRecord current = recordAt(6 * MIB, "k/2-a");

    IngestStep step = IngestStep.toData(current, null, 0, 30);

    assertThat(step.next().offset()).isZero();
    assertThat(step.next().dataKey()).isNull();
    assertThat(step.next().dataEtag()).isNull();
    assertThat(step.next().generation()).isEqualTo(current.generation());
    assertThat(step.next().updatedAt()).isEqualTo(30);
    assertThat(step.obsoleteKey()).isEqualTo("k/2-a");
    assertThat(step.prefixKey()).isNull();
  }

  @Test
  void persistingChangesTheRecordOnlyForNewBytesOrAStaleObject() {
    IngestRecord named = recordAt(6 * MIB, "k/2-a");
    IngestData same = new IngestData("k/2-a", "\"etag-old\"", 2, 6 * MIB);

    assertThat(IngestStep.changes(named, same, false)).isFalse();
    assertThat(IngestStep.changes(named, same, true)).isTrue();
    assertThat(IngestStep.changes(named, null, false)).isTrue();
    assertThat(IngestStep.changes(recordAt(0, null), null, false)).isFalse();
  }
}
