package dev.coffer.s3sim;

/**
 * One entry of the {@link RequestLog}.
 *
 * @param sequence the request's number in the network, from 1, in the order requests were sent
 *     (a held request applied later is logged again under the same number)
 * @param host the host that sent it
 * @param operation the operation
 * @param bucket the bucket, or null
 * @param key the object key, or null
 * @param outcome what became of it
 * @param status the HTTP status the server (or the network) answered, or 0 if none
 * @param code S3's error code of an error answer, or null
 */
public record LoggedRequest(long sequence, String host, Operation operation, String bucket,
    String key, Outcome outcome, int status, String code) {

  @Override
  public String toString() {
    return "#" + sequence + " " + host + " " + operation + " " + bucket + "/" + key + " -> "
        + outcome + (status == 0 ? "" : " " + status) + (code == null ? "" : " " + code);
  }
}
