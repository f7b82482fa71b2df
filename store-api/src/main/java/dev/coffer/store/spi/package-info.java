/**
 * For implementers of {@link dev.coffer.store.ContentStore}, not for its users: building blocks
 * that backends and decorators in other modules share, such as {@link
 * dev.coffer.store.spi.ForwardingContentStore}.
 */
package dev.coffer.store.spi;
