package dev.coffer.benchmarks.macro;

import dev.coffer.benchmarks.macro.Report.Ratio;
import dev.coffer.benchmarks.macro.Report.Row;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Why a missed target was missed and what would close it, per case. */
final class Notes {
  private Notes() {}

  static String forMisses(List<Ratio> ratios, Row small) {
    Set<String> notes = new LinkedHashSet<>();
    for (Ratio r : ratios) {
      if (r.met()) {
        continue;
      }
      String subject = r.pair().subject();
      boolean cli = subject.contains("CLI");
      switch (r.pair().caseId()) {
        case "ingest" -> notes.add(cli ? CLI_INGEST : INGEST);
        case "cold read" -> notes.add(cli ? CLI_READ : READ);
        case "hot read" -> notes.add(cli ? CLI_HOT : HOT);
        case "small blobs" -> notes.add(SMALL_RATE);
        case "walk" -> notes.add(CLI_WALK);
        default -> { }
      }
    }
    if (small != null && !Double.isNaN(small.requests())
        && Math.round(small.requests() / small.units() * 100) > 200) {
      notes.add(SMALL_REQUESTS);
    }
    if (notes.isEmpty()) {
      return "";
    }
    return "#### Missed targets: why, and what would close them\n\n"
        + String.join("\n", notes.stream().map(n -> "- " + n).toList()) + "\n";
  }

  static final String INGEST = "**Ingest, library.** The raw upload only sends parts, read "
      + "straight from the file, and is done when the upload completes. The Writer copies every "
      + "byte into its part buffers and hashes it with SHA-256 for the content address (on "
      + "worker threads, part by part, beside the uploads; parts carry a CRC32C), and its commit "
      + "then makes the blob: CompleteMultipartUpload, a server-side CopyObject of the whole "
      + "object to its digest key, and the records. The copy is what the key layout costs: a "
      + "blob lives at its digest, which is unknown until the last byte is written. On S3 the "
      + "copy runs inside S3 and moves no byte through the client; on a local server it is a "
      + "second full write of the file on the same two cores, which is most of the gap (the "
      + "phases are in the single-writer section above). Where the digest is known before the "
      + "first byte the copy is skipped: `putFile` (which `coffer put FILE` uses) uploads "
      + "straight to the digest key and completes that upload only once the bytes sent hash to "
      + "it (PROTO-12).";

  static final String CLI_INGEST = "**Ingest, `coffer put`.** On top of the library's work the "
      + "command starts a JVM (the `coffer --version` row of the hot-read table) and hashes "
      + "the file once before sending it (CLI-1, CLI-2); it then sends the file straight to its "
      + "digest key (`putFile`, PROTO-12): no ingest records, no copy, and no tee into the "
      + "cache (the first read after a put fills it). "
      + "The JVM start stays, which a long-running process using the library (or `coffer serve`) "
      + "avoids. Most of the rest is a cold JVM: each command runs the SDK's, Netty's and the "
      + "store's code interpreted until the JIT compiles it, and on a loaded 2-core machine the "
      + "compiler threads wait for CPU too; the library rows run in a warm JVM. `bin/coffer` "
      + "already maps a class-data-sharing archive, which saves class loading only; an "
      + "ahead-of-time compiled command (a native image) or a smaller client stack for one-shot "
      + "commands would shrink the rest.";

  static final String READ = "**Cold read, library.** A sequential read is one GET streamed "
      + "into the caller's buffer, as the raw GET is; the reader adds the index-record read "
      + "before the first byte (the blob's size and state), a fresh store per round, and a lock "
      + "and position check per 1 MiB read. That is a fixed cost plus a few per cent, which the "
      + "same run can show either side of the target (library faster than raw on one server, "
      + "below 0.9 on the other); measured alone in one JVM (`ReadThroughputBenchmark`) it was "
      + "0.90 to 0.94 of raw on S3Mock.";

  static final String CLI_READ = "**Cold read, `coffer get`.** The command starts a JVM and "
      + "verifies the blob's SHA-256 while it writes (about 0.7 s of a core per GiB on this CPU), "
      + "which the peers do not; a `--range` read other than `0-` skips the check. Like `coffer "
      + "put` it also pays for a cold JVM (see the ingest note): one get compiled 2,442 methods "
      + "with 2.1 s of compiler time. The S3 reader drains its one GET on a read-ahead thread "
      + "while the command hashes and writes, so the hash overlaps the download only when a core "
      + "is free for each: two cores shared with the server (and, here, other builds) often have "
      + "none; parallel ranged GETs were slower on both local servers (docs/benchmarks.md, "
      + "\"Where a command's time went\", and the read-ahead's run of 2026-12-03).";

  static final String HOT = "**Hot read.** The cache adds an info lookup, an `fstat` and "
      + "per-read bookkeeping to the plain read; on this shared VM the run-to-run noise is of the "
      + "same order (see the JMH disk-tier figures above, measured in one JVM).";

  static final String CLI_HOT = "**Hot read, `coffer get`.** The command serves a verified "
      + "cache entry without hashing it again and hands the file to the output with "
      + "`FileChannel.transferTo`, as `cat` copies a file; what it cannot avoid is its JVM: "
      + "`coffer --version`, which starts the JVM and picocli and does nothing else, takes about "
      + "twice as long as `cat` of the whole blob at the default size (the hot-read table above), "
      + "so no JVM-started command reaches half of `cat`'s throughput there. The gap after the "
      + "start (opening the cache's disk tier and its entry) is of the same order as `cat`'s "
      + "time. The ratio grows with the blob, since the start is paid once; a process that keeps "
      + "the store open (the library, `coffer serve`) pays it never.";

  static final String CLI_WALK = "**Walk, `coffer ls --filter`.** The command walks with the "
      + "library's walk (its own row, level with the raw list and GETs), so the gap is the "
      + "command's: a cold JVM starting the SDK and running the walk's code interpreted until "
      + "the compiler catches up, then formatting and printing one line per match. A process "
      + "that keeps the store open walks at the library's rate.";

  static final String SMALL_RATE = "**Small blobs, rate.** Each put is two requests against "
      + "raw PutObject's one: the blob (If-None-Match, its tags in the same request) and the "
      + "index record (create-only), which holds the reference count and labels that the walk "
      + "and every later reference change read. On a local server that spends about the same "
      + "time on any small request, the rate follows the request count, so about half of raw's "
      + "is what two requests allow; sending the record concurrently with the blob would save "
      + "the wait for the first answer but could publish a record whose bytes failed to store.";

  static final String SMALL_REQUESTS = "**Small blobs, requests.** A put of content below one "
      + "part is PutObject of the blob and PutObject of the index record. A retry after a "
      + "refused or failed request adds one (the first puts on a server without tagging are "
      + "refused once, 501, and sent again without tags), and the put looks at the blob again "
      + "(HeadObject) when its blob write found the object already there or its two writes were "
      + "more than half the purge timeout apart.";
}
