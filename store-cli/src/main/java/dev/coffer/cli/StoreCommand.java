package dev.coffer.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Info;
import dev.coffer.store.Status;
import dev.coffer.store.StoreException;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The base of every command that works on a store: the store options, output mode, and the one place
 * where failures become a single line on stderr and an exit code.
 */
abstract class StoreCommand implements Callable<Integer> {

  static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT);

  @Spec
  CommandSpec spec;

  @Option(names = "--config", paramLabel = "FILE",
      description = "JSON config file (the Terraform module's coffer_config_json output).")
  String configFile;

  @Option(names = "--bucket", description = "Bucket (default: the embedded server).")
  String bucket;

  @Option(names = "--prefix", description = "Key prefix inside the bucket.")
  String prefix;

  @Option(names = "--region", description = "AWS region.")
  String region;

  @Option(names = "--endpoint", paramLabel = "URL", description = "S3 endpoint override.")
  String endpoint;

  @Option(names = "--path-style", negatable = true, description = "Path-style bucket addressing.")
  Boolean pathStyle;

  @Option(names = "--profile", description = "AWS profile for credentials.")
  String profile;

  @Option(names = "--cache-dir", paramLabel = "DIR", description = "Disk cache directory.")
  String cacheDir;

  @Option(names = "--no-cache", description = "Read and write without the local cache.")
  Boolean noCache;

  @Option(names = "--json", description = "Machine-readable JSON output.")
  boolean json;

  @Option(names = {"-q", "--quiet"}, description = "No progress bars or summaries.")
  boolean quiet;

  @Option(names = "--debug", description = "Show stack traces of failures.")
  boolean debug;

  /** How log lines are written to stderr. */
  enum LogFormat { text, json }

  @Option(names = "--log-format", paramLabel = "text|json", defaultValue = "text",
      description = "Log lines on stderr as text (default) or one JSON object each (time, level,"
          + " message); the command's own messages stay text.")
  LogFormat logFormat = LogFormat.text;

  Coffer cli() {
    return (Coffer) spec.root().userObject();
  }

  /** The command as typed, {@code coffer ingest status}: the prefix of its messages. */
  String name() {
    return spec.qualifiedName(" ");
  }

  /** Where one-line notices go: stderr, unless {@code --quiet}. */
  PrintStream notices() {
    return quiet ? new PrintStream(OutputStream.nullOutputStream()) : cli().err;
  }

  @Override
  public final Integer call() {
    if (logFormat != LogFormat.json) {
      return run();
    }
    // The logger writes to whatever System.err is when it writes (slf4j-simple's "System.err").
    PrintStream systemErr = System.err;
    System.setErr(new JsonLogStream(systemErr, java.time.Clock.systemUTC()));
    try {
      return run();
    } finally {
      System.setErr(systemErr);
    }
  }

  /**
   * The settings as resolved, the cache as configured even when {@link #readsContent} keeps the
   * store from opening it; null until the command runs.
   */
  Settings resolved;

  private Integer run() {
    Coffer cli = cli();
    if (debug) {
      // slf4j-simple reads a logger's level when the logger is created, so this precedes the store.
      System.setProperty("org.slf4j.simpleLogger.log.dev.coffer", "debug");
    }
    try {
      resolved = Settings.resolve(flags(), sources());
      Settings settings = readsContent() ? resolved : resolved.withoutCache();
      // Even with -q: it is about where credentials and content go, not progress.
      Settings.insecureEndpointWarning(settings.endpoint())
          .ifPresent(warning -> cli.err.println("coffer: warning: " + warning));
      MeterRegistry registry = cli.measureAll || measuresRequests() ? cli.metrics() : null;
      try (ContentStore store = cli.connector.open(settings, notices(), registry)) {
        return execute(store, settings).code;
      }
    } catch (StoreException e) {
      return fail(ExitCode.of(e), e);
    } catch (ConfigException e) {
      return fail(ExitCode.CONFIG, e);
    } catch (UncheckedIOException e) {
      return fail(ExitCode.IO, e.getCause() == null ? e : e.getCause());
    } catch (IOException e) {
      return fail(ExitCode.IO, e);
    } catch (RuntimeException e) {
      return fail(ExitCode.FAILURE, e);
    }
  }

  /** The store options, each one not given on the command line taken from its sources. */
  Settings.Flags flags() {
    return new Settings.Flags(configFile, bucket, prefix, region, endpoint, pathStyle, profile,
        cacheDir, noCache);
  }

  /** The sources picocli took the options not given from (see {@link Coffer#execute}). */
  private ConfigSources sources() {
    return spec.commandLine().getDefaultValueProvider() instanceof ConfigSources sources
        ? sources : new ConfigSources(cli().env, cli()::path);
  }

  /**
   * Whether this command reads or writes blobs' bytes, or changes what is stored, and so works
   * through the cache (unless it is turned off). A command that only reads records (info, ls, du,
   * ingest ls and status) opens no cache: a one-shot process would keep nothing of it, and opening
   * it indexes the disk tier and may hold its lock while another command transfers.
   */
  boolean readsContent() {
    return true;
  }

  /**
   * Whether this command's store always counts its requests in {@link Coffer#metrics()} (for its
   * own report); otherwise only under {@code coffer stats}, and the command never loads the meters.
   */
  boolean measuresRequests() {
    return false;
  }

  /** Runs the command on an open store. */
  abstract ExitCode execute(ContentStore store, Settings settings) throws IOException;

  private int fail(ExitCode code, Throwable e) {
    Coffer cli = cli();
    String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    cli.err.println(name() + ": " + message);
    if (debug) {
      e.printStackTrace(cli.err);
    }
    return code.code;
  }

  void printJson(Object value) {
    try {
      cli().out.println(JSON.writeValueAsString(value));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  static ObjectNode toJson(Info info) {
    ObjectNode node = JSON.createObjectNode();
    node.put("digest", info.digest().toString());
    node.put("size", info.size());
    node.put("createdAt", info.createdAt().toString());
    node.put("updatedAt", info.updatedAt().toString());
    node.put("lastUsedAt", info.lastUsedAt().toString());
    ObjectNode labels = node.putObject("labels");
    info.labels().forEach(labels::put);
    node.put("refCount", info.refCount());
    // A blob being deleted is not found, so every blob shown is live; the field says so, as the
    // index record does, rather than leave it to be guessed.
    node.put("state", "live");
    var links = node.putArray("links");
    info.links().forEach(d -> links.add(d.toString()));
    return node;
  }

  static ObjectNode toJson(Status status) {
    ObjectNode node = JSON.createObjectNode();
    node.put("ref", status.ref());
    node.put("offset", status.offset());
    node.put("total", status.total());
    node.put("expected", status.expected() == null ? null : status.expected().toString());
    node.put("startedAt", status.startedAt().toString());
    node.put("updatedAt", status.updatedAt().toString());
    return node;
  }
}
