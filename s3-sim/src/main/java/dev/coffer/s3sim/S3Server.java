package dev.coffer.s3sim;

import java.time.Clock;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The simulated S3's REST layer: one request in, one response out, transport-agnostic (the
 * in-process SDK clients of {@link SimS3} call it; a loopback HTTP server could too). Requests
 * use path-style addressing. Behind it, a model keeps the state in a {@link Storage} and applies
 * S3's documented semantics under one lock: every operation is atomic and linearizable.
 *
 * <p>What it does not do: check signatures or credentials (any Authorization is accepted),
 * versioning, ACLs, policies, encryption, storage classes, lifecycle rules, DeleteObjects, presigned
 * URLs, virtual-hosted addressing; those requests are answered 501 NotImplemented or ignored.
 *
 * <p>Thread-safe.
 */
public final class S3Server {
  private final S3Model model;
  private final ObjectRoutes objects;
  private final UploadRoutes uploads;
  private final AtomicLong requestIds = new AtomicLong();

  private S3Server(Builder b) {
    this.model = new S3Model(b.storage, b.clock, b.capabilities, b.conditionalGap);
    this.objects = new ObjectRoutes(model);
    this.uploads = new UploadRoutes(new Multipart(model, b.seed), objects);
  }

  /** A builder: in-memory storage, a {@link SimClock}, S3's capabilities, seed 0. */
  public static Builder builder() {
    return new Builder();
  }

  /** The clock that stamps LastModified and Initiated. */
  public Clock clock() {
    return model.clock;
  }

  /** What this server does where S3-compatible servers differ. */
  public Capabilities capabilities() {
    return model.capabilities;
  }

  /**
   * Creates a bucket, as a CreateBucket request would, without going through any network.
   *
   * @throws IllegalArgumentException if the name is not a valid bucket name
   * @throws IllegalStateException if the bucket exists
   */
  public void createBucket(String bucket) {
    try {
      model.createBucket(bucket);
    } catch (S3Error e) {
      if (e.status == 400) {
        throw new IllegalArgumentException("invalid bucket name \"" + bucket + "\"", e);
      }
      throw new IllegalStateException("bucket " + bucket + " exists", e);
    }
  }

  /**
   * Applies one request and answers it. Errors are answers too (S3's status, error code and
   * document); an exception means a defect of the simulation.
   */
  public SimResponse handle(SimRequest request) {
    Operation operation = Operation.of(request);
    String requestId = String.format("%016X", requestIds.incrementAndGet());
    try {
      return route(operation, request).build(requestId, model.clock.instant());
    } catch (S3Error e) {
      return error(e, request.method().equals("HEAD"), requestId);
    }
  }

  private Answer route(Operation operation, SimRequest r) {
    return switch (operation) {
      case LIST_BUCKETS -> objects.listBuckets();
      case CREATE_BUCKET -> objects.createBucket(r);
      case HEAD_BUCKET -> objects.headBucket(r);
      case DELETE_BUCKET -> objects.deleteBucket(r);
      case LIST_OBJECTS_V2 -> objects.listObjectsV2(r);
      case PUT_OBJECT -> objects.putObject(r);
      case COPY_OBJECT -> objects.copyObject(r);
      case GET_OBJECT -> objects.getObject(r, false);
      case HEAD_OBJECT -> objects.getObject(r, true);
      case DELETE_OBJECT -> objects.deleteObject(r);
      case GET_OBJECT_TAGGING -> objects.getTagging(r);
      case PUT_OBJECT_TAGGING -> objects.putTagging(r);
      case DELETE_OBJECT_TAGGING -> objects.deleteTagging(r);
      case CREATE_MULTIPART_UPLOAD -> uploads.create(r);
      case UPLOAD_PART -> uploads.uploadPart(r);
      case UPLOAD_PART_COPY -> uploads.uploadPartCopy(r);
      case COMPLETE_MULTIPART_UPLOAD -> uploads.complete(r);
      case ABORT_MULTIPART_UPLOAD -> uploads.abort(r);
      case LIST_PARTS -> uploads.listParts(r);
      case LIST_MULTIPART_UPLOADS -> uploads.listUploads(r);
      case UNSUPPORTED -> throw new S3Error(501, "NotImplemented",
          "A request you provided implies functionality that is not implemented: " + r);
    };
  }

  private SimResponse error(S3Error e, boolean head, String requestId) {
    Answer answer = Answer.status(e.status);
    if (e.status == 416) {
      answer.header("Content-Range", "bytes */" + e.details.get("ActualObjectSize"));
    }
    if (!head && e.status != 304) {
      answer.xml(errorDocument(e.code, e.getMessage(), e.details, requestId));
    }
    return answer.build(requestId, model.clock.instant());
  }

  /**
   * An answer that the network injects without applying the request: {@code status} with S3's
   * error document for {@code code}. A status of 200 makes the answer S3 sometimes gives to
   * CompleteMultipartUpload and copies: 200 OK with an error document.
   */
  SimResponse injected(int status, String code, String message) {
    String requestId = String.format("%016X", requestIds.incrementAndGet());
    return Answer.status(status).xml(errorDocument(code, message, Map.of(), requestId))
        .build(requestId, model.clock.instant());
  }

  private static byte[] errorDocument(String code, String message, Map<String, String> details,
      String requestId) {
    Xml.Writer xml = new Xml.Writer("Error", false).element("Code", code)
        .element("Message", message);
    details.forEach(xml::element);
    return xml.element("RequestId", requestId).element("HostId", requestId).bytes();
  }

  /** Collects a server's parts. Not thread-safe. */
  public static final class Builder {
    private Storage storage;
    private Clock clock;
    private Capabilities capabilities = Capabilities.s3();
    private long seed;
    private Runnable conditionalGap = () -> { };

    private Builder() {}

    /** Where the state is kept; default a new {@link Storage#inMemory()}. */
    public Builder storage(Storage storage) {
      this.storage = Objects.requireNonNull(storage, "storage");
      return this;
    }

    /** The clock of LastModified and Initiated; default a new {@link SimClock}. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** What the server does where S3-compatible servers differ; default {@link Capabilities#s3()}. */
    public Builder capabilities(Capabilities capabilities) {
      this.capabilities = Objects.requireNonNull(capabilities, "capabilities");
      return this;
    }

    /** The seed of upload ids. */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /**
     * Runs between the check and the write of a conditional write on a server without atomic
     * conditional writes ({@link Capabilities#atomicConditionalWrites()} false), with no lock
     * held: a test parks here to let another request in between. Default: nothing.
     */
    public Builder conditionalWriteGap(Runnable gap) {
      this.conditionalGap = Objects.requireNonNull(gap, "gap");
      return this;
    }

    /** The server; its storage keeps whatever it held. */
    public S3Server build() {
      if (storage == null) {
        storage = Storage.inMemory();
      }
      if (clock == null) {
        clock = new SimClock();
      }
      return new S3Server(this);
    }
  }
}
