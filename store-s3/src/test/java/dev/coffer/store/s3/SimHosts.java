package dev.coffer.store.s3;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coffer.s3sim.SimClock;
import dev.coffer.s3sim.SimS3;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Delayed;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * What the multi-host checker ({@code dev.coffer.store.s3.check}) needs from this package, which
 * keeps the store's runtime and its record format to itself: stores whose threads, clocks, pauses
 * and randomness are the simulation's, so that a run is a function of its seed, and a reading of
 * index records straight from the simulated bucket.
 */
public final class SimHosts implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final SimStores stores;

  private SimHosts(SimStores stores) {
    this.stores = stores;
  }

  /** Hosts on {@code sim}, whose bucket {@link #bucket()} this creates. */
  public static SimHosts on(SimS3 sim) {
    return new SimHosts(new SimStores(sim));
  }

  /** The bucket the stores use. */
  public static String bucket() {
    return SimStores.BUCKET;
  }

  /**
   * A configuration on the bucket under {@code prefix}, with 5 MiB parts, on the simulation. It
   * trusts the server's conditional requests (PROTO-2): the simulated server honours them, and the
   * probe's racing writes cannot overlap on hosts whose background work runs on the calling thread
   * (the probe itself is tested by {@code UnsafeServerTest}).
   */
  public static S3StoreConfig.Builder config(String prefix) {
    return SimStores.config(prefix).trustConditionalRequests(true);
  }

  /**
   * A new store instance of {@code host}, as a new process on that host would open it (the host's
   * SDK clients are made once and shared by its instances: they hold no state of the store):
   * background work runs on the calling thread, lease renewals never run by themselves, the
   * monotonic clock and every pause are {@code clock}'s (a pause advances it), and randomness
   * comes from {@code random} alone. The SDK retries at once, without backoff. A file of a
   * byte or more is put as a multipart upload to its digest key, as a large one is.
   */
  public ContentStore open(String host, S3StoreConfig config, SimClock clock,
      RandomGenerator random) {
    S3Client client = stores.client(host, config);
    S3AsyncClient bulk = stores.bulkClient(host, config);
    StoreRuntime runtime = new StoreRuntime(new DirectExecutor(), new InertScheduler(),
        () -> {
          var t = clock.instant();
          return t.getEpochSecond() * 1_000_000_000L + t.getNano();
        },
        clock::advance, () -> random, false);
    ContentStore store = S3Stores.builder().config(config).client(client).bulkClient(bulk)
        .runtime(runtime).build();
    // The checker's contents are below one part: its file puts take the multipart path anyway.
    ((S3Store) store).filePartsFrom(1);
    return store;
  }

  /** Closes every host's clients and the simulation. */
  @Override
  public void close() {
    stores.close();
  }

  /**
   * The incarnation of {@code digest}'s record in the version {@code store} remembers (PROTO-14),
   * if that version shows it live; null otherwise: what a put that marks draws its operation from
   * without a read ({@code newLinks}). A store of {@link #open}.
   */
  public static Long rememberedLive(ContentStore store, Digest digest) {
    IndexRecords records = ((S3Store) store).records();
    S3Objects.Fetched known = records.known(digest);
    IndexRecord record = known == null ? null : records.parse(digest, known);
    return record != null && record.isLive() ? record.incarnation() : null;
  }

  /** The index record's key of {@code digest} under {@code prefix}. */
  public static String indexKey(String prefix, Digest digest) {
    return new Keys(prefix).index(digest);
  }

  /** The blob object's key of {@code digest} under {@code prefix}. */
  public static String blobKey(String prefix, Digest digest) {
    return new Keys(prefix).blob(digest);
  }

  /** The ingest record's key of {@code ref} under {@code prefix}. */
  public static String ingestStateKey(String prefix, String ref) {
    return new Keys(prefix).ingestState(ref);
  }

  /** What an index record says, as the checker compares it with its model. */
  public record RecordView(String state, long size, long refCount, List<String> links,
      Map<String, String> labels) {
    public boolean live() {
      return "live".equals(state);
    }
  }

  /** Parses an index record's JSON. */
  public static RecordView record(byte[] json) {
    try {
      JsonNode n = JSON.readTree(json);
      List<String> links = new ArrayList<>();
      n.path("links").forEach(l -> links.add(l.asText()));
      Map<String, String> labels = new TreeMap<>();
      n.path("labels").properties().forEach(e -> labels.put(e.getKey(),
          e.getValue().asText()));
      return new RecordView(n.path("state").asText(), n.path("size").asLong(),
          n.path("refCount").asLong(), links, labels);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A marked reference of {@code linkNew} in an index record (PROTO-13): its operation, the
   * source it is for and that source's incarnation, and when it was taken (ns, the taker's clock).
   */
  public record MarkView(String op, String from, long fromIncarnation, long at) {}

  /** What an index record says of {@code linkNew}'s marks, as the checker settles them. */
  public record MarksView(long incarnation, List<MarkView> pending, Map<String, String> linkOps) {}

  /** Parses the marks, incarnation and link operations of an index record's JSON. */
  public static MarksView marks(byte[] json) {
    try {
      JsonNode n = JSON.readTree(json);
      List<MarkView> pending = new ArrayList<>();
      n.path("pending").forEach(m -> pending.add(new MarkView(m.path("op").asText(),
          m.path("from").asText(), m.path("fromIncarnation").asLong(), m.path("at").asLong())));
      Map<String, String> linkOps = new TreeMap<>();
      n.path("linkOps").properties().forEach(e -> linkOps.put(e.getKey(), e.getValue().asText()));
      return new MarksView(n.path("incarnation").asLong(), pending, linkOps);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The incarnation of the target each link of an index record holds a reference of, by the
   * target's digest (PROTO-1); a link without one matches any incarnation and is left out.
   */
  public static Map<String, Long> linkIncarnations(byte[] json) {
    try {
      Map<String, Long> lives = new TreeMap<>();
      JSON.readTree(json).path("linkIncarnations").properties()
          .forEach(e -> lives.put(e.getKey(), e.getValue().asLong()));
      return lives;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** An executor with nothing of its own to wait for: shutting down is setting a flag. */
  private abstract static class FlagExecutor extends AbstractExecutorService {
    private volatile boolean shutdown;

    @Override
    public void shutdown() {
      shutdown = true;
    }

    @Override
    public List<Runnable> shutdownNow() {
      shutdown = true;
      return List.of();
    }

    @Override
    public boolean isShutdown() {
      return shutdown;
    }

    @Override
    public boolean isTerminated() {
      return shutdown;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
      return true;
    }
  }

  /** Runs every task on the submitting thread, at once. */
  private static final class DirectExecutor extends FlagExecutor {
    @Override
    public void execute(Runnable command) {
      command.run();
    }
  }

  /**
   * Accepts scheduled tasks and never runs them: the checker's writers live within one step, so
   * their leases need no renewal, and a dead host's leases lapse on the simulated clock.
   */
  private static final class InertScheduler extends FlagExecutor
      implements ScheduledExecutorService {

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
      return new Never<>();
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
      return new Never<>();
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay,
        long period, TimeUnit unit) {
      return new Never<>();
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay,
        long delay, TimeUnit unit) {
      return new Never<>();
    }

    @Override
    public void execute(Runnable command) {
      throw new UnsupportedOperationException("the lease scheduler only schedules");
    }
  }

  /** A scheduled task that never comes due. */
  private static final class Never<V> extends CompletableFuture<V> implements ScheduledFuture<V> {
    @Override
    public long getDelay(TimeUnit unit) {
      return unit.convert(Duration.ofDays(365));
    }

    @Override
    public int compareTo(Delayed o) {
      return Long.compare(getDelay(TimeUnit.NANOSECONDS), o.getDelay(TimeUnit.NANOSECONDS));
    }
  }
}
