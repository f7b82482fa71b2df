package dev.coffer.store;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Map;

/**
 * {@link NewLinks} of a store whose {@code linkNew} is one change: content is put without a
 * reference and linked by a plain {@code linkNew}, so nothing is held between the two.
 */
record PlainNewLinks(ContentStore store, Digest from) implements NewLinks {

  @Override
  public Info put(byte[] content, Digest expected, Map<String, String> labels) {
    return store.put(content, expected, labels);
  }

  @Override
  public Info putFile(Path file, Digest expected, Map<String, String> labels)
      throws IOException {
    return store.putFile(file, expected, labels);
  }

  @Override
  public void link(Collection<Digest> to) {
    store.linkNew(to, from);
  }
}
