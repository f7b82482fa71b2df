package dev.coffer.store.tree;

import dev.coffer.store.Digest;

/**
 * What one put or get of a tree did.
 *
 * @param tree the tree's digest
 * @param files the tree's files
 * @param bytes the bytes of the tree's files
 * @param newFiles files transferred: uploaded by a put (not already stored), written by a get (not
 *     already present with the right digest)
 * @param newBytes the bytes of those files
 */
public record TreeTransfer(Digest tree, long files, long bytes, long newFiles, long newBytes) {}
