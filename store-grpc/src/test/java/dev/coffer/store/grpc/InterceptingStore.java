package dev.coffer.store.grpc;

import dev.coffer.store.ContentStore;
import dev.coffer.store.ReaderAt;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A store that delegates to another, counts the readers it opens and the bytes they return, and can
 * be told to fail
 * every call of one method, to see what the service makes of each error class.
 */
final class InterceptingStore {

  final ContentStore store;
  final AtomicLong bytesRead = new AtomicLong();
  final AtomicLong readersOpened = new AtomicLong();
  final AtomicLong readersClosed = new AtomicLong();
  final AtomicReference<String> failingMethod = new AtomicReference<>();
  final AtomicReference<RuntimeException> failure = new AtomicReference<>();

  InterceptingStore(ContentStore delegate) {
    store = proxy(ContentStore.class, (p, method, args) -> {
      if (method.getName().equals(failingMethod.get())) {
        throw failure.get();
      }
      Object result = invoke(delegate, method, args);
      if (result instanceof ReaderAt reader) {
        readersOpened.incrementAndGet();
        return countingReader(reader);
      }
      return result;
    });
  }

  void failWith(String method, RuntimeException e) {
    failure.set(e);
    failingMethod.set(method);
  }

  private ReaderAt countingReader(ReaderAt reader) {
    AtomicBoolean closed = new AtomicBoolean();
    return proxy(ReaderAt.class, (p, method, args) -> {
      if (method.getName().equals("close") && closed.compareAndSet(false, true)) {
        readersClosed.incrementAndGet();
      }
      Object result = invoke(reader, method, args);
      if (method.getName().equals("read") && result instanceof Integer n && n > 0) {
        bytesRead.addAndGet(n);
      }
      return result;
    });
  }

  private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  private static <T> T proxy(Class<T> type, InvocationHandler handler) {
    return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler));
  }
}
