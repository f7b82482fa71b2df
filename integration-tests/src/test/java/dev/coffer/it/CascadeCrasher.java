package dev.coffer.it;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import java.net.URI;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * A host for {@link CascadeIT} that dies in the middle of a cascade: opens the store, prints
 * {@code READY}, derefs the given blob (the head of a long chain of links) and, should it get that
 * far before being killed, prints {@code DONE} and waits to be killed.
 *
 * <p>Arguments: endpoint, bucket, prefix, digest.
 */
public final class CascadeCrasher {
  private CascadeCrasher() {}

  public static void main(String[] args) throws Exception {
    StaticCredentialsProvider credentials =
        StaticCredentialsProvider.create(AwsBasicCredentials.create("coffer", "coffer"));
    S3StoreConfig config = S3StoreConfig.builder().bucket(args[1]).prefix(args[2])
        .endpoint(URI.create(args[0])).pathStyle(true).credentials(credentials).build();
    ContentStore store = S3Stores.open(config);
    Digest head = Digest.parse(args[3]);
    store.info(head); // the clients are warm before the signal
    System.out.println("READY");
    System.out.flush();
    store.deref(head);
    System.out.println("DONE");
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE); // until the test kills this host
  }
}
