package dev.coffer.store.grpc;

import com.google.protobuf.Timestamp;
import dev.coffer.store.Digest;
import dev.coffer.store.Info;
import dev.coffer.store.Status;
import java.time.Instant;

/** Conversions between the store's records and containerd's wire messages. */
final class Protos {

  private Protos() {}

  static Timestamp timestamp(Instant instant) {
    return Timestamp.newBuilder()
        .setSeconds(instant.getEpochSecond())
        .setNanos(instant.getNano())
        .build();
  }

  static Instant instant(Timestamp timestamp) {
    return Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos());
  }

  static dev.coffer.store.grpc.proto.Info info(Info info) {
    return dev.coffer.store.grpc.proto.Info.newBuilder()
        .setDigest(info.digest().toString())
        .setSize(info.size())
        .setCreatedAt(timestamp(info.createdAt()))
        .setUpdatedAt(timestamp(info.updatedAt()))
        .putAllLabels(info.labels())
        .build();
  }

  static dev.coffer.store.grpc.proto.Status status(Status status) {
    return dev.coffer.store.grpc.proto.Status.newBuilder()
        .setRef(status.ref())
        .setOffset(status.offset())
        .setTotal(status.total())
        .setExpected(digestOrEmpty(status.expected()))
        .setStartedAt(timestamp(status.startedAt()))
        .setUpdatedAt(timestamp(status.updatedAt()))
        .build();
  }

  /**
   * The digest in a request: empty means unknown (null); anything else must parse.
   *
   * @throws dev.coffer.store.InvalidArgumentException naming the value if it does not parse
   */
  static Digest optionalDigest(String value) {
    return value.isEmpty() ? null : Digest.parse(value);
  }

  static String digestOrEmpty(Digest digest) {
    return digest == null ? "" : digest.toString();
  }
}
