package dev.coffer.store.s3;

import java.util.concurrent.CompletableFuture;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.scheme.AwsV4AuthScheme;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.scheme.AuthScheme;
import software.amazon.awssdk.http.auth.spi.signer.AsyncSignRequest;
import software.amazon.awssdk.http.auth.spi.signer.AsyncSignedRequest;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignRequest;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.IdentityProvider;
import software.amazon.awssdk.identity.spi.IdentityProviders;

/**
 * SigV4 that leaves request bodies unsigned over plain {@code http://} as well as over {@code
 * https://}: the headers, method, path and query are signed as always, and the body is sent as
 * {@code UNSIGNED-PAYLOAD} (or, when the SDK adds a trailing checksum, {@code
 * STREAMING-UNSIGNED-PAYLOAD-TRAILER}) instead of {@code STREAMING-AWS4-HMAC-SHA256-PAYLOAD}.
 *
 * <p>The SDK's synchronous client signs every body over http whatever {@code
 * PAYLOAD_SIGNING_ENABLED} says: a SHA-256 and an HMAC of every 128 KiB chunk, on top of the
 * checksum each of the store's writes already carries (INT-6 in docs/architecture.md), about a
 * tenth of a tree put's client CPU. The SDK decides from the request's scheme alone, so this
 * signer hands it the request as if it were {@code https} (with the {@code Host} header the http
 * request has, since the scheme is not part of what SigV4 signs) and gives the signed request its
 * scheme back. An {@code https} request is passed through untouched.
 *
 * <p>Thread-safe and stateless.
 */
final class UnsignedPayloadSigner implements HttpSigner<AwsCredentialsIdentity> {
  private static final String HTTP = "http";
  private static final String HTTPS = "https";
  private static final int HTTP_PORT = 80;

  private final AwsV4HttpSigner delegate = AwsV4HttpSigner.create();

  /** SigV4 ({@code aws.auth#sigv4}) with this signer, for a client builder's putAuthScheme. */
  static AuthScheme<AwsCredentialsIdentity> authScheme() {
    UnsignedPayloadSigner signer = new UnsignedPayloadSigner();
    return new AuthScheme<>() {
      @Override
      public String schemeId() {
        return AwsV4AuthScheme.SCHEME_ID;
      }

      @Override
      public IdentityProvider<AwsCredentialsIdentity> identityProvider(
          IdentityProviders providers) {
        return providers.identityProvider(AwsCredentialsIdentity.class);
      }

      @Override
      public HttpSigner<AwsCredentialsIdentity> signer() {
        return signer;
      }
    };
  }

  @Override
  public SignedRequest sign(SignRequest<? extends AwsCredentialsIdentity> request) {
    if (!isHttp(request.request())) {
      return delegate.sign(request);
    }
    SignedRequest signed = delegate.sign(request.copy(r -> r.request(asHttps(request.request()))));
    return signed.copy(r -> r.request(backToHttp(signed.request())));
  }

  @Override
  public CompletableFuture<AsyncSignedRequest> signAsync(
      AsyncSignRequest<? extends AwsCredentialsIdentity> request) {
    if (!isHttp(request.request())) {
      return delegate.signAsync(request);
    }
    return delegate.signAsync(request.copy(r -> r.request(asHttps(request.request()))))
        .thenApply(signed -> signed.copy(r -> r.request(backToHttp(signed.request()))));
  }

  private static boolean isHttp(SdkHttpRequest request) {
    return HTTP.equalsIgnoreCase(request.protocol());
  }

  /** The request as https, keeping the Host header http would have: the signer keeps one set. */
  private static SdkHttpRequest asHttps(SdkHttpRequest request) {
    SdkHttpRequest.Builder b = request.toBuilder();
    if (request.firstMatchingHeader("Host").isEmpty()) {
      b.putHeader("Host", request.port() == HTTP_PORT
          ? request.host() : request.host() + ":" + request.port());
    }
    return b.protocol(HTTPS).port(request.port()).build();
  }

  private static SdkHttpRequest backToHttp(SdkHttpRequest request) {
    return request.toBuilder().protocol(HTTP).port(request.port()).build();
  }
}
