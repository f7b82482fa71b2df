package dev.coffer.it;

import dev.coffer.store.Digest;

/**
 * The object keys of a store on {@code prefix}, as tests look at them through the plain S3 API.
 *
 * @param prefix the store's key prefix, ending in {@code /}
 */
record ObjectKeys(String prefix) {

  /** The blob object of {@code digest}. */
  String blob(Digest digest) {
    return prefix + "blobs/sha256/" + digest.hex();
  }

  /** The index record of {@code digest}. */
  String index(Digest digest) {
    return prefix + "index/sha256/" + digest.hex();
  }
}
