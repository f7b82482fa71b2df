/**
 * Coffer as containerd's content store: {@link dev.coffer.store.grpc.ContentServer} serves any
 * {@link dev.coffer.store.ContentStore} as {@code containerd.services.content.v1.Content} on a Unix
 * socket, which containerd uses through a content proxy plugin:
 *
 * <pre>
 * version = 2
 * disabled_plugins = ["io.containerd.content.v1.content"]  # else containerd picks one at random
 * [proxy_plugins]
 *   [proxy_plugins.coffer]
 *     type = "content"
 *     address = "/run/coffer/coffer.sock"
 * </pre>
 *
 * <p>containerd's metadata store stays in front of the proxy: labels, {@code ctr content ls} and
 * updates are answered from it, and its garbage collector asks the proxy to delete every blob its
 * own metadata does not hold. Each server is one holder: a Delete releases only the store
 * reference that server's containerd holds, so many containerd daemons can share one store, each
 * through its own server. The generated wire classes live in {@code dev.coffer.store.grpc.proto}.
 */
package dev.coffer.store.grpc;
