package dev.coffer.store.s3;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;

// Over 400 lines: every key's default, bounds and checked setter are declared here, once.
/**
 * The immutable configuration of one S3 content store: the bucket and key prefix it owns, how it
 * reaches S3, and how it moves bytes. Every key has its default and bounds beside it. A value out
 * of its bounds is refused with {@link IllegalArgumentException} naming the key and the value, when
 * set on the builder and again by the record's constructor; a combination the store cannot work
 * with (no bucket; a {@code purgeTimeout} shorter than the hosts' clocks can be held to, see
 * {@link #PURGE_TIMEOUT_SHARED_MIN}) is refused with {@link IllegalStateException} naming the
 * values, by {@link Builder#build()} and the constructor.
 *
 * <p>Instances are immutable and thread-safe; {@link #toBuilder()} derives a changed copy.
 *
 * @param bucket the bucket (required)
 * @param prefix the key prefix the store owns, empty or ending in {@code /}; default empty
 * @param region the region; default {@code us-east-1}
 * @param endpoint the endpoint override (LocalStack, S3-compatible servers); default none (AWS)
 * @param pathStyle whether requests use path-style addressing; default false
 * @param credentials the credentials; default empty, meaning the SDK's default provider chain
 * @param partSize size of each part a writer uploads, and the size below which a blob is one
 *     PutObject
 * @param uploadConcurrency parts one writer uploads at once
 * @param copyConcurrency parts copied at once by a multipart copy
 * @param copyPartSize range size of each part of a multipart copy
 * @param multipartCopyThreshold blobs larger than this are copied to their digest key with a
 *     multipart copy: as set, or {@link #MULTIPART_COPY_THRESHOLD_DEFAULT} on AWS and {@link
 *     #MULTIPART_COPY_THRESHOLD_ENDPOINT_DEFAULT} with an endpoint override. {@link #toBuilder()}
 *     keeps a threshold other than its endpoint's default; one equal to it follows the endpoint
 *     set later, as an unset one does
 * @param readChunkSize size of each ranged GET of a large read
 * @param readConcurrency ranged GETs in flight for one large read
 * @param checksumMode which checksums requests carry; default {@link ChecksumMode#CRC32C}
 * @param signPayloads whether request bodies are signed (SigV4) over a plain {@code http://}
 *     endpoint, as the SDK does by default, rather than sent as {@code UNSIGNED-PAYLOAD}; default
 *     false. Bodies go unsigned only while every write carries its checksum, so with {@link
 *     ChecksumMode#WHEN_REQUIRED} they are signed whatever this says. Over {@code https://} (and
 *     so on AWS) nothing changes: the SDK sends S3 bodies unsigned there, guarded by TLS and the
 *     checksums (INT-6 in docs/architecture.md)
 * @param transfer the client that carries bulk bytes; default {@link Transfer#JAVA_ASYNC}, which
 *     measured faster than the CRT client against S3Mock here (see docs/s3-store.md)
 * @param leaseDuration how long a writer's lease lasts without renewal
 * @param deletionGrace how long gc leaves a deleted blob resurrectable before purging it
 * @param purgeTimeout how long one purge may hold a record before another host finishes it
 * @param casAttempts attempts of one compare-and-swap before AbortedException
 * @param sdkAttempts attempts of one S3 request by the SDK's retry strategy
 * @param trustConditionalRequests whether gc and repairs skip the probe of the server's
 *     conditional requests (PROTO-2); default false
 * @param clock the clock of timestamps and leases; default the system UTC clock
 * @param touchInterval how often, at most, a host records a use of one blob in its index record
 *     (RET-1); default one day
 * @param unusedFor the expiry by last use gc applies when its options name none: blobs without a
 *     reference unused for longer than this (at least the touch interval, checked by gc);
 *     default none
 * @param objectTags whether blobs carry object tags mirroring their index records; default true.
 *     False for a server known to have none: no tagged write and no tag request is sent (a store
 *     opened with true learns it from the first refused write, logs it, and goes on untagged)
 */
public record S3StoreConfig(
    String bucket,
    String prefix,
    String region,
    Optional<URI> endpoint,
    boolean pathStyle,
    Optional<AwsCredentialsProvider> credentials,
    long partSize,
    int uploadConcurrency,
    int copyConcurrency,
    long copyPartSize,
    long multipartCopyThreshold,
    long readChunkSize,
    int readConcurrency,
    ChecksumMode checksumMode,
    boolean signPayloads,
    Transfer transfer,
    Duration leaseDuration,
    Duration deletionGrace,
    Duration purgeTimeout,
    int casAttempts,
    int sdkAttempts,
    boolean trustConditionalRequests,
    Clock clock,
    Duration touchInterval,
    Optional<Duration> unusedFor,
    boolean objectTags) {

  /** How often, at most, a host records a use of one blob in its index record (RET-1). */
  public static final Duration TOUCH_INTERVAL_DEFAULT = Duration.ofDays(1);
  public static final Duration TOUCH_INTERVAL_MIN = Duration.ofSeconds(1);
  public static final Duration TOUCH_INTERVAL_MAX = Duration.ofDays(30);

  /** 1 MiB. */
  public static final long MIB = 1L << 20;
  /** 1 GiB. */
  public static final long GIB = 1L << 30;

  /** S3's smallest part other than the last of a multipart upload. */
  public static final long PART_SIZE_MIN = 5 * MIB;
  /** The longest key prefix accepted, as the Terraform module's. */
  public static final int PREFIX_MAX_LENGTH = 512;
  /** The key prefixes accepted, as the Terraform module's {@code prefix} variable. */
  private static final Pattern PREFIX = Pattern.compile("([A-Za-z0-9][A-Za-z0-9._-]*/)*");
  /** The part size used unless set: measured against S3Mock (see docs/s3-store.md). */
  public static final long PART_SIZE_DEFAULT = 16 * MIB;
  /** The largest part size accepted; a writer buffers up to uploadConcurrency parts. */
  public static final long PART_SIZE_MAX = 512 * MIB;

  /** Parts uploaded at once by one writer (and buffers it holds at most). */
  public static final int UPLOAD_CONCURRENCY_DEFAULT = 4;
  public static final int UPLOAD_CONCURRENCY_MIN = 1;
  public static final int UPLOAD_CONCURRENCY_MAX = 64;

  /** Parts copied at once by a multipart server-side copy. */
  public static final int COPY_CONCURRENCY_DEFAULT = 16;
  public static final int COPY_CONCURRENCY_MIN = 1;
  public static final int COPY_CONCURRENCY_MAX = 128;

  /** Range size of one part of a multipart server-side copy. */
  public static final long COPY_PART_SIZE_DEFAULT = 64 * MIB;
  public static final long COPY_PART_SIZE_MIN = PART_SIZE_MIN;
  /** S3's largest part, and largest single CopyObject. */
  public static final long COPY_PART_SIZE_MAX = 5 * GIB;

  /**
   * Blobs above this size are copied with a multipart copy instead of one CopyObject, on AWS (no
   * endpoint override): S3 copies one object at a time at tens of MB/s (a 1 GB CopyObject takes
   * about 30 s) and parallel part copies several times faster, while the two extra requests of a
   * multipart copy cost milliseconds; from 128 MiB a copy has two or more 64 MiB parts in flight.
   */
  public static final long MULTIPART_COPY_THRESHOLD_DEFAULT = 128 * MIB;
  /**
   * The threshold with an endpoint override (S3Mock, S3Proxy, MinIO, LocalStack): S3's largest
   * CopyObject. Such servers copy on their own disk, where parallel part copies measured slower
   * (S3Mock: 43 s against 12 to 19 s for 512 MiB; S3Proxy: no gain), as each part is written and
   * then joined again.
   */
  public static final long MULTIPART_COPY_THRESHOLD_ENDPOINT_DEFAULT = 5 * GIB;
  public static final long MULTIPART_COPY_THRESHOLD_MIN = PART_SIZE_MIN;
  public static final long MULTIPART_COPY_THRESHOLD_MAX = 5 * GIB;

  /**
   * Size of one ranged GET of a large read that does not continue the previous one; several run
   * at once. Sequential reads stream one GET instead.
   */
  public static final long READ_CHUNK_SIZE_DEFAULT = 8 * MIB;
  public static final long READ_CHUNK_SIZE_MIN = 64 * 1024;
  public static final long READ_CHUNK_SIZE_MAX = 512 * MIB;

  /** Ranged GETs in flight for one large read that does not continue the previous one. */
  public static final int READ_CONCURRENCY_DEFAULT = 4;
  public static final int READ_CONCURRENCY_MIN = 1;
  public static final int READ_CONCURRENCY_MAX = 64;

  /** How long a writer's lease on its ref lasts without renewal; renewed every third of it. */
  public static final Duration LEASE_DURATION_DEFAULT = Duration.ofSeconds(30);
  public static final Duration LEASE_DURATION_MIN = Duration.ofMillis(300);
  public static final Duration LEASE_DURATION_MAX = Duration.ofHours(1);

  /**
   * How long gc leaves a blob in {@code deleting} before purging it: a committer that finds the
   * record meanwhile resurrects it. Must exceed the longest commit in flight.
   */
  public static final Duration DELETION_GRACE_DEFAULT = Duration.ofMinutes(15);
  public static final Duration DELETION_GRACE_MIN = Duration.ZERO;
  public static final Duration DELETION_GRACE_MAX = Duration.ofDays(30);

  /**
   * How long one purge may hold a record in {@code purging}. A purger gives up if it gets this far
   * behind before deleting the blob object (it checks at half of it); a record still {@code purging}
   * after it belongs to a purger that died, and gc or a committer on any host finishes that purge.
   */
  public static final Duration PURGE_TIMEOUT_DEFAULT = Duration.ofMinutes(2);
  public static final Duration PURGE_TIMEOUT_MIN = Duration.ofMillis(100);
  public static final Duration PURGE_TIMEOUT_MAX = Duration.ofHours(1);
  /**
   * The shortest purge timeout with the system clock and a bucket other hosts may reach (AWS, or
   * an endpoint not on loopback). Deleters spare blob objects younger than half the timeout by
   * their LastModified (PROTO-10 in docs/architecture.md, "Young blob objects"), which holds
   * while the hosts' and S3's clocks agree within half of it: 5 s here, the skew the multi-host
   * checker runs with, where clocks kept by NTP agree within far less. One host's own server
   * (loopback) shares its clock, and a caller that passes its own clock vouches for it, so both
   * may go down to {@link #PURGE_TIMEOUT_MIN}.
   */
  public static final Duration PURGE_TIMEOUT_SHARED_MIN = Duration.ofSeconds(10);

  /** Attempts of one compare-and-swap on an index or ingest record before AbortedException. */
  public static final int CAS_ATTEMPTS_DEFAULT = 16;
  public static final int CAS_ATTEMPTS_MIN = 1;
  public static final int CAS_ATTEMPTS_MAX = 1000;

  /** Attempts of one S3 request by the SDK's retry strategy (throttling, 5xx, 409, resets). */
  public static final int SDK_ATTEMPTS_DEFAULT = 8;
  public static final int SDK_ATTEMPTS_MIN = 1;
  public static final int SDK_ATTEMPTS_MAX = 50;

  /** The client that carries bulk bytes (parts, part copies); reads use the synchronous one. */
  public enum Transfer {
    /** The CRT-based asynchronous client ({@code aws-crt}). */
    CRT,
    /** The SDK's Netty-based asynchronous client. */
    JAVA_ASYNC
  }

  /** Which checksums requests carry. */
  public enum ChecksumMode {
    /**
     * Every part carries its CRC32C, which S3 verifies: it guards the transfer as well as a
     * SHA-256 for a fraction of the CPU, while the blob's digest is still checked against the
     * whole-content SHA-256 the writer computes. A small blob carries its SHA-256 (its digest,
     * already known); other small objects their CRC32C.
     */
    CRC32C,
    /** Every part and small object carries its SHA-256, which S3 verifies (end to end). */
    SHA256,
    /** Only checksums an operation requires; for S3-compatible servers that reject others. */
    WHEN_REQUIRED
  }

  /**
   * Whether the clients the store builds send request bodies unsigned over {@code http://}: unless
   * {@link #signPayloads} asks for signed ones, or the checksum mode leaves some writes without a
   * checksum ({@link ChecksumMode#WHEN_REQUIRED}).
   */
  public boolean unsignedPayloads() {
    return !signPayloads && checksumMode != ChecksumMode.WHEN_REQUIRED;
  }

  /** Checks every value and the combination: see the class comment. */
  public S3StoreConfig {
    if (bucket == null) {
      throw new IllegalStateException("bucket is required");
    }
    checkBucket(bucket);
    Objects.requireNonNull(prefix, "prefix");
    if (!PREFIX.matcher(prefix).matches() || prefix.length() > PREFIX_MAX_LENGTH) {
      throw invalidPrefix(prefix);
    }
    checkRegion(region);
    Objects.requireNonNull(endpoint, "endpoint");
    endpoint.ifPresent(S3StoreConfig::checkEndpoint);
    Objects.requireNonNull(credentials, "credentials");
    checkRange("partSize", partSize, PART_SIZE_MIN, PART_SIZE_MAX);
    checkRange("uploadConcurrency", uploadConcurrency, UPLOAD_CONCURRENCY_MIN,
        UPLOAD_CONCURRENCY_MAX);
    checkRange("copyConcurrency", copyConcurrency, COPY_CONCURRENCY_MIN, COPY_CONCURRENCY_MAX);
    checkRange("copyPartSize", copyPartSize, COPY_PART_SIZE_MIN, COPY_PART_SIZE_MAX);
    checkRange("multipartCopyThreshold", multipartCopyThreshold, MULTIPART_COPY_THRESHOLD_MIN,
        MULTIPART_COPY_THRESHOLD_MAX);
    checkRange("readChunkSize", readChunkSize, READ_CHUNK_SIZE_MIN, READ_CHUNK_SIZE_MAX);
    checkRange("readConcurrency", readConcurrency, READ_CONCURRENCY_MIN, READ_CONCURRENCY_MAX);
    Objects.requireNonNull(checksumMode, "checksumMode");
    Objects.requireNonNull(transfer, "transfer");
    checkRange("leaseDuration", leaseDuration, LEASE_DURATION_MIN, LEASE_DURATION_MAX);
    checkRange("deletionGrace", deletionGrace, DELETION_GRACE_MIN, DELETION_GRACE_MAX);
    checkRange("purgeTimeout", purgeTimeout, PURGE_TIMEOUT_MIN, PURGE_TIMEOUT_MAX);
    checkRange("casAttempts", casAttempts, CAS_ATTEMPTS_MIN, CAS_ATTEMPTS_MAX);
    checkRange("sdkAttempts", sdkAttempts, SDK_ATTEMPTS_MIN, SDK_ATTEMPTS_MAX);
    checkRange("touchInterval", touchInterval, TOUCH_INTERVAL_MIN, TOUCH_INTERVAL_MAX);
    Objects.requireNonNull(unusedFor, "unusedFor");
    if (unusedFor.isPresent() && unusedFor.get().isNegative()) {
      throw new IllegalArgumentException("unusedFor " + unusedFor.get() + " is negative");
    }
    Objects.requireNonNull(clock, "clock");
    if (purgeTimeout.compareTo(PURGE_TIMEOUT_SHARED_MIN) < 0 && isSystemClock(clock)
        && !endpoint.map(S3StoreConfig::isLoopback).orElse(false)) {
      throw new IllegalStateException("purgeTimeout " + purgeTimeout + " with the system clock"
          + " and " + endpoint.map(e -> "endpoint " + e).orElse("AWS (no endpoint)")
          + " is below " + PURGE_TIMEOUT_SHARED_MIN + ": it would assume that every host's clock"
          + " and S3's agree within " + purgeTimeout.dividedBy(2) + "; set at least "
          + PURGE_TIMEOUT_SHARED_MIN);
    }
  }

  /**
   * How old a reference marked for a link ({@code linkNew}) is before gc or {@code fsck --repair}
   * resolves it, giving it back if the link was never made (TREE-3): the lease, plus the largest
   * clock skew the store allows (half the purge timeout), plus twice the longest a record change
   * keeps trying (5 minutes: a {@code linkNew} sends its links only within one of its start).
   * Derived, not set: 11.5 minutes with the defaults. It bounds how long a crashed call's
   * over-count lasts; safety does not rest on it (the source is fenced first).
   */
  public Duration pendingLinkBound() {
    return leaseDuration.plus(purgeTimeout.dividedBy(2)).plus(Duration.ofMinutes(10));
  }

  /** A builder with every default; bucket is required. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this configuration's values. */
  public Builder toBuilder() {
    Builder b = new Builder().bucket(bucket).prefix(prefix).region(region)
        .endpoint(endpoint.orElse(null)).pathStyle(pathStyle).credentials(credentials.orElse(null))
        .partSize(partSize).uploadConcurrency(uploadConcurrency).copyConcurrency(copyConcurrency)
        .copyPartSize(copyPartSize);
    if (multipartCopyThreshold != defaultMultipartCopyThreshold(endpoint.orElse(null))) {
      b.multipartCopyThreshold(multipartCopyThreshold);
    }
    return b.readChunkSize(readChunkSize).readConcurrency(readConcurrency)
        .checksumMode(checksumMode).signPayloads(signPayloads).transfer(transfer).leaseDuration(leaseDuration)
        .deletionGrace(deletionGrace).purgeTimeout(purgeTimeout).casAttempts(casAttempts)
        .sdkAttempts(sdkAttempts).trustConditionalRequests(trustConditionalRequests).clock(clock)
        .touchInterval(touchInterval).unusedFor(unusedFor.orElse(null)).objectTags(objectTags);
  }

  /** Credentials and the clock are left out: a provider may print its keys. */
  @Override
  public String toString() {
    return "S3StoreConfig{bucket=" + bucket + ", prefix=" + prefix + ", region=" + region
        + ", endpoint=" + endpoint.orElse(null) + ", pathStyle=" + pathStyle + ", partSize="
        + partSize + ", uploadConcurrency=" + uploadConcurrency + ", copyConcurrency="
        + copyConcurrency + ", transfer=" + transfer + ", checksumMode=" + checksumMode
        + (signPayloads ? ", signPayloads=true" : "")
        + ", leaseDuration=" + leaseDuration + ", deletionGrace=" + deletionGrace
        + ", purgeTimeout=" + purgeTimeout
        + (trustConditionalRequests ? ", trustConditionalRequests=true" : "")
        + (objectTags ? "" : ", objectTags=false") + "}";
  }

  private static long defaultMultipartCopyThreshold(URI endpoint) {
    return endpoint == null ? MULTIPART_COPY_THRESHOLD_DEFAULT
        : MULTIPART_COPY_THRESHOLD_ENDPOINT_DEFAULT;
  }

  /** Whether every clock the store reads is this JVM's system clock, in whatever zone. */
  private static boolean isSystemClock(Clock clock) {
    return clock.getClass() == Clock.systemUTC().getClass();
  }

  /** Whether the endpoint is on this machine, named without a lookup. */
  private static boolean isLoopback(URI endpoint) {
    String host = endpoint.getHost();
    if (host == null) {
      return false;
    }
    host = host.toLowerCase(Locale.ROOT);
    return host.equals("localhost") || host.startsWith("127.") || host.equals("[::1]");
  }

  private static void checkBucket(String bucket) {
    if (bucket.isBlank()) {
      throw new IllegalArgumentException("bucket must not be empty");
    }
  }

  private static void checkRegion(String region) {
    if (region == null || region.isBlank()) {
      throw new IllegalArgumentException("region must not be empty");
    }
  }

  private static void checkEndpoint(URI endpoint) {
    if (endpoint.getScheme() == null) {
      throw new IllegalArgumentException("endpoint " + endpoint + " has no scheme");
    }
  }

  private static IllegalArgumentException invalidPrefix(String prefix) {
    String shown = prefix.length() > 80 ? prefix.substring(0, 80) + "..." : prefix;
    return new IllegalArgumentException("invalid prefix \"" + shown + "\": must be empty or"
        + " segments of letters, digits, '.', '_' and '-' (each starting with a letter or"
        + " digit) separated by '/', at most " + PREFIX_MAX_LENGTH + " characters");
  }

  private static Duration checkRange(String key, Duration value, Duration min, Duration max) {
    Objects.requireNonNull(value, key);
    if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
      throw new IllegalArgumentException(
          key + " " + value + " is outside [" + min + ", " + max + "]");
    }
    return value;
  }

  private static long checkRange(String key, long value, long min, long max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          key + " " + value + " is outside [" + min + ", " + max + "]");
    }
    return value;
  }

  /** Collects the values of a configuration; each setter checks its value. Not thread-safe. */
  public static final class Builder {
    private String bucket;
    private String prefix = "";
    private String region = "us-east-1";
    private URI endpoint;
    private boolean pathStyle;
    private AwsCredentialsProvider credentials;
    private long partSize = PART_SIZE_DEFAULT;
    private int uploadConcurrency = UPLOAD_CONCURRENCY_DEFAULT;
    private int copyConcurrency = COPY_CONCURRENCY_DEFAULT;
    private long copyPartSize = COPY_PART_SIZE_DEFAULT;
    private Long multipartCopyThreshold; // null: by endpoint
    private long readChunkSize = READ_CHUNK_SIZE_DEFAULT;
    private int readConcurrency = READ_CONCURRENCY_DEFAULT;
    private ChecksumMode checksumMode = ChecksumMode.CRC32C;
    private boolean signPayloads;
    private Transfer transfer = Transfer.JAVA_ASYNC;
    private Duration leaseDuration = LEASE_DURATION_DEFAULT;
    private Duration deletionGrace = DELETION_GRACE_DEFAULT;
    private Duration purgeTimeout = PURGE_TIMEOUT_DEFAULT;
    private int casAttempts = CAS_ATTEMPTS_DEFAULT;
    private int sdkAttempts = SDK_ATTEMPTS_DEFAULT;
    private boolean trustConditionalRequests;
    private Clock clock = Clock.systemUTC();
    private Duration touchInterval = TOUCH_INTERVAL_DEFAULT;
    private Duration unusedFor;
    private boolean objectTags = true;

    private Builder() {}

    /** The bucket, which must exist; required. */
    public Builder bucket(String bucket) {
      if (bucket == null) {
        throw new IllegalArgumentException("bucket must not be empty");
      }
      checkBucket(bucket);
      this.bucket = bucket;
      return this;
    }

    /**
     * The key prefix; a missing trailing {@code /} is added; empty means the bucket's root. The
     * same prefixes as the Terraform module's {@code prefix} variable are accepted: segments of
     * letters, digits, {@code .}, {@code _} and {@code -}, each starting with a letter or digit and
     * ending in {@code /}, at most {@value #PREFIX_MAX_LENGTH} characters; so the module's IAM
     * policies, which scope exactly that prefix, cover it.
     *
     * @throws IllegalArgumentException naming the prefix if it is not one
     */
    public Builder prefix(String prefix) {
      Objects.requireNonNull(prefix, "prefix");
      String normalised = prefix.isEmpty() || prefix.endsWith("/") ? prefix : prefix + "/";
      if (!PREFIX.matcher(normalised).matches() || normalised.length() > PREFIX_MAX_LENGTH) {
        throw invalidPrefix(prefix);
      }
      this.prefix = normalised;
      return this;
    }

    /** The region. */
    public Builder region(String region) {
      checkRegion(region);
      this.region = region;
      return this;
    }

    /** The endpoint, such as {@code http://127.0.0.1:9090}; null for AWS. */
    public Builder endpoint(URI endpoint) {
      if (endpoint != null) {
        checkEndpoint(endpoint);
      }
      this.endpoint = endpoint;
      return this;
    }

    /** Whether requests use path-style addressing (most S3-compatible servers need it). */
    public Builder pathStyle(boolean pathStyle) {
      this.pathStyle = pathStyle;
      return this;
    }

    /** The credentials; null for the SDK's default provider chain. */
    public Builder credentials(AwsCredentialsProvider credentials) {
      this.credentials = credentials;
      return this;
    }

    /** The part size, in [{@value #PART_SIZE_MIN}, {@value #PART_SIZE_MAX}] bytes. */
    public Builder partSize(long bytes) {
      this.partSize = checkRange("partSize", bytes, PART_SIZE_MIN, PART_SIZE_MAX);
      return this;
    }

    /** Parts one writer uploads at once, in [1, 64]. */
    public Builder uploadConcurrency(int parts) {
      this.uploadConcurrency = (int) checkRange("uploadConcurrency", parts,
          UPLOAD_CONCURRENCY_MIN, UPLOAD_CONCURRENCY_MAX);
      return this;
    }

    /** Parts copied at once by a multipart copy, in [1, 128]. */
    public Builder copyConcurrency(int parts) {
      this.copyConcurrency = (int) checkRange("copyConcurrency", parts,
          COPY_CONCURRENCY_MIN, COPY_CONCURRENCY_MAX);
      return this;
    }

    /** Range size of each part of a multipart copy, in [5 MiB, 5 GiB]. */
    public Builder copyPartSize(long bytes) {
      this.copyPartSize = checkRange("copyPartSize", bytes, COPY_PART_SIZE_MIN,
          COPY_PART_SIZE_MAX);
      return this;
    }

    /**
     * Blobs larger than this are copied with a multipart copy, in [5 MiB, 5 GiB] (5 GiB is the
     * largest single CopyObject; lower it to exercise the multipart path with small blobs). Unset,
     * it depends on the endpoint: see {@link S3StoreConfig#multipartCopyThreshold()}.
     */
    public Builder multipartCopyThreshold(long bytes) {
      this.multipartCopyThreshold = checkRange("multipartCopyThreshold", bytes,
          MULTIPART_COPY_THRESHOLD_MIN, MULTIPART_COPY_THRESHOLD_MAX);
      return this;
    }

    /** Size of each ranged GET of a large read, in [64 KiB, 512 MiB]. */
    public Builder readChunkSize(long bytes) {
      this.readChunkSize = checkRange("readChunkSize", bytes, READ_CHUNK_SIZE_MIN,
          READ_CHUNK_SIZE_MAX);
      return this;
    }

    /** Ranged GETs in flight for one large read, in [1, 64]. */
    public Builder readConcurrency(int requests) {
      this.readConcurrency = (int) checkRange("readConcurrency", requests,
          READ_CONCURRENCY_MIN, READ_CONCURRENCY_MAX);
      return this;
    }

    /** Which checksums requests carry. */
    public Builder checksumMode(ChecksumMode mode) {
      this.checksumMode = Objects.requireNonNull(mode, "checksumMode");
      return this;
    }

    /**
     * Whether request bodies are signed over a plain {@code http://} endpoint (SigV4's {@code
     * STREAMING-AWS4-HMAC-SHA256-PAYLOAD}) rather than sent as {@code UNSIGNED-PAYLOAD} with their
     * checksum; default false. For a server that refuses unsigned bodies over http, or to have
     * the signature guard bodies as well. No effect over https, nor with {@link
     * ChecksumMode#WHEN_REQUIRED} (bodies are then always signed).
     */
    public Builder signPayloads(boolean sign) {
      this.signPayloads = sign;
      return this;
    }

    /** The client that carries bulk bytes when the store builds its own clients. */
    public Builder transfer(Transfer transfer) {
      this.transfer = Objects.requireNonNull(transfer, "transfer");
      return this;
    }

    /** How long a writer's lease lasts without renewal, in [300 ms, 1 h]. */
    public Builder leaseDuration(Duration duration) {
      this.leaseDuration = checkRange("leaseDuration", duration, LEASE_DURATION_MIN,
          LEASE_DURATION_MAX);
      return this;
    }

    /** How long gc leaves a deleted blob resurrectable, in [0, 30 days]. */
    public Builder deletionGrace(Duration grace) {
      this.deletionGrace = checkRange("deletionGrace", grace, DELETION_GRACE_MIN,
          DELETION_GRACE_MAX);
      return this;
    }

    /**
     * How long one purge may hold a record before another host finishes it, in [100 ms, 1 h];
     * at least {@link #PURGE_TIMEOUT_SHARED_MIN} with the system clock and a bucket other hosts
     * may reach, checked by {@link #build()}.
     */
    public Builder purgeTimeout(Duration timeout) {
      this.purgeTimeout = checkRange("purgeTimeout", timeout, PURGE_TIMEOUT_MIN,
          PURGE_TIMEOUT_MAX);
      return this;
    }

    /** Attempts of one compare-and-swap, in [1, 1000]. */
    public Builder casAttempts(int attempts) {
      this.casAttempts = (int) checkRange("casAttempts", attempts, CAS_ATTEMPTS_MIN,
          CAS_ATTEMPTS_MAX);
      return this;
    }

    /** Attempts of one S3 request by the SDK's retry strategy, in [1, 50]. */
    public Builder sdkAttempts(int attempts) {
      this.sdkAttempts = (int) checkRange("sdkAttempts", attempts, SDK_ATTEMPTS_MIN,
          SDK_ATTEMPTS_MAX);
      return this;
    }

    /**
     * Skips the probe that gc and repairs make of the server's conditional DeleteObject and the
     * atomicity of its conditional writes (PROTO-2), trusting both: for a server known to honour
     * them, or a test server (S3Mock, LocalStack) whose gaps a test accepts. Default false.
     */
    public Builder trustConditionalRequests(boolean trust) {
      this.trustConditionalRequests = trust;
      return this;
    }

    /** The clock of timestamps and leases (tests pass a controllable one). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** How often, at most, this host records a use of one blob, in [1 s, 30 days]. */
    public Builder touchInterval(Duration interval) {
      checkRange("touchInterval", interval, TOUCH_INTERVAL_MIN, TOUCH_INTERVAL_MAX);
      this.touchInterval = interval;
      return this;
    }

    /**
     * The expiry gc applies when its options name none: blobs without a reference unused for
     * longer than this, at least the touch interval (checked by gc); null for none (default).
     */
    public Builder unusedFor(Duration age) {
      if (age != null && age.isNegative()) {
        throw new IllegalArgumentException("unusedFor " + age + " is negative");
      }
      this.unusedFor = age;
      return this;
    }

    /**
     * Whether blobs carry object tags mirroring their index records (default true). False for a
     * server known to have no object tagging: nothing tagged is sent and no tags are asked for,
     * instead of learning it from a refused write each time a store is opened.
     */
    public Builder objectTags(boolean objectTags) {
      this.objectTags = objectTags;
      return this;
    }

    /**
     * The configuration.
     *
     * @throws IllegalStateException if no bucket was set, or the values do not go together (see
     *     {@link #PURGE_TIMEOUT_SHARED_MIN})
     */
    public S3StoreConfig build() {
      return new S3StoreConfig(bucket, prefix, region, Optional.ofNullable(endpoint), pathStyle,
          Optional.ofNullable(credentials), partSize, uploadConcurrency, copyConcurrency,
          copyPartSize, multipartCopyThreshold != null ? multipartCopyThreshold
              : defaultMultipartCopyThreshold(endpoint),
          readChunkSize, readConcurrency, checksumMode, signPayloads, transfer, leaseDuration, deletionGrace,
          purgeTimeout, casAttempts, sdkAttempts, trustConditionalRequests, clock, touchInterval,
          Optional.ofNullable(unusedFor), objectTags);
    }
  }
}
