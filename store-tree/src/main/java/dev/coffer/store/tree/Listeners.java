package dev.coffer.store.tree;

import java.lang.System.Logger.Level;

/** Calls a {@link TransferListener}, logging and swallowing what it throws. */
final class Listeners {
  private static final System.Logger LOG = System.getLogger(Listeners.class.getName());

  private Listeners() {}

  static TransferListener safe(TransferListener listener) {
    if (listener == TransferListener.NONE) {
      return listener;
    }
    return new TransferListener() {
      @Override
      public void started(long files, long bytes) {
        try {
          listener.started(files, bytes);
        } catch (RuntimeException e) {
          LOG.log(Level.WARNING, "transfer listener failed; ignored", e);
        }
      }

      @Override
      public void fileDone(long bytes, boolean transferred) {
        try {
          listener.fileDone(bytes, transferred);
        } catch (RuntimeException e) {
          LOG.log(Level.WARNING, "transfer listener failed; ignored", e);
        }
      }
    };
  }
}
