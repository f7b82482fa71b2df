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
        case "hot read" -> notes.add(HOT);
        case "small blobs" -> notes.add(SMALL_RATE);
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
      + "straight from the file. The Writer copies every byte into its part buffers, hashes it "
      + "with SHA-256 (for `digest()` and the commit's check) and hashes each part again for its "
      + "`x-amz-checksum-sha256`, which the server then verifies: about three SHA-256 passes per "
      + "byte more than the raw upload, on two cores that also run the server. The commit "
      + "(CompleteMultipartUpload, a server-side CopyObject to the digest key, the index record, "
      + "the ingest record's removal) is the smaller part: a few per cent at 256 MiB in the "
      + "single-writer table above (write + close against write + commit). What would close it: "
      + "hashing the whole and the parts on other threads while parts upload, instead of on the "
      + "writing thread, and `checksumMode(WHEN_REQUIRED)` where the transport is trusted "
      + "(0.80 to 0.86 of raw in that table).";

  static final String CLI_INGEST = "**Ingest, `coffer put`.** On top of the library's work the "
      + "command starts a JVM (the `coffer --version` row of the hot-read table) and, with the "
      + "cache on as by default, tees the bytes into a staging file of the disk tier and hashes "
      + "that copy once more, so the first read after a put is hot. `--no-cache` drops the tee; "
      + "the JVM start stays, which a long-running process using the library (or `coffer serve`) "
      + "avoids. Most of the rest is a cold JVM: each command runs the SDK's, Netty's and the "
      + "store's code interpreted until the JIT compiles it, and on a loaded 2-core machine the "
      + "compiler threads wait for CPU too; the library rows run in a warm JVM. Class data "
      + "sharing (an AppCDS archive of the command) and a smaller client stack for one-shot "
      + "commands would shrink that.";

  static final String READ = "**Cold read, library.** The reader fetches 8 MiB ranges, 4 in "
      + "flight, into buffers it then copies to the caller; a single streaming GET copies once. "
      + "Larger ranges or handing the SDK's buffers through without the copy would close it.";

  static final String CLI_READ = "**Cold read, `coffer get`.** The command starts a JVM and "
      + "verifies the blob's SHA-256 while it writes (about 0.7 s per GiB on this CPU), which the "
      + "peers do not; `--range` reads skip the check. Like `coffer put` it also pays for a "
      + "cold JVM (see the ingest note).";

  static final String HOT = "**Hot read.** The cache adds an info lookup, an `fstat` and "
      + "per-read bookkeeping to the plain read; on this shared VM the run-to-run noise is of the "
      + "same order (see the JMH disk-tier figures above, measured in one JVM).";

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
