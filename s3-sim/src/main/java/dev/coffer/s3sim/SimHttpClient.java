package dev.coffer.s3sim;

import java.io.IOException;
import java.io.InputStream;
import software.amazon.awssdk.http.ExecutableHttpRequest;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.HttpExecuteResponse;
import software.amazon.awssdk.http.SdkHttpClient;

/**
 * The SDK's synchronous HTTP client for one host of the simulation: each request is read whole and
 * sent through the {@link Network} on the calling thread. Thread-safe; {@link #close()} does
 * nothing.
 */
final class SimHttpClient implements SdkHttpClient {
  private final Network network;
  private final String host;

  SimHttpClient(Network network, String host) {
    this.network = network;
    this.host = host;
  }

  @Override
  public ExecutableHttpRequest prepareRequest(HttpExecuteRequest request) {
    return new ExecutableHttpRequest() {
      @Override
      public HttpExecuteResponse call() throws IOException {
        byte[] body = new byte[0];
        if (request.contentStreamProvider().isPresent()) {
          try (InputStream in = request.contentStreamProvider().get().newStream()) {
            body = in.readAllBytes();
          }
        }
        SimResponse response = network.send(host, Transport.request(request.httpRequest(), body));
        return HttpExecuteResponse.builder()
            .response(Transport.response(response))
            .responseBody(Transport.body(response))
            .build();
      }

      @Override
      public void abort() {
        // The exchange is synchronous and in memory: nothing to abort.
      }
    };
  }

  @Override
  public String clientName() {
    return "SimS3Sync";
  }

  @Override
  public void close() {
  }
}
