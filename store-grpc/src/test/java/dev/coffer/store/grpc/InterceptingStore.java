package dev.coffer.store.grpc;

import dev.coffer.store.ContentStore;
import dev.coffer.store.ReaderAt;
import dev.coffer.store.Writer;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A store that delegates to another, counts the readers it opens and the bytes they return, can
 * be told to fail every call of one method, to see what the service makes of each error class, and
 * can hold writers' closes at a gate, as a slow backend's close; counts the calls of each method.
 */
final class InterceptingStore {

  final ContentStore store;
  final AtomicLong bytesRead = new AtomicLong();
  final AtomicLong readersOpened = new AtomicLong();
  final AtomicLong readersClosed = new AtomicLong();
  private final Map<String, AtomicLong> calls = new ConcurrentHashMap<>();
  final AtomicReference<String> failingMethod = new AtomicReference<>();
  final AtomicReference<RuntimeException> failure = new AtomicReference<>();

  /** While set, a writer's close waits for this latch, after releasing {@link #closesEntered}. */
  final AtomicReference<CountDownLatch> closeGate = new AtomicReference<>();
  /** A permit for every writer close that began. */
  final Semaphore closesEntered = new Semaphore(0);
  /** A permit for every call of {@code writer} that returned or threw. */
  final Semaphore writerCalls = new Semaphore(0);

  InterceptingStore(ContentStore delegate) {
    store = proxy(ContentStore.class, (p, method, args) -> {
      calls.computeIfAbsent(method.getName(), name -> new AtomicLong()).incrementAndGet();
      if (method.getName().equals(failingMethod.get())) {
        throw failure.get();
      }
      Object result;
      try {
        result = invoke(delegate, method, args);
      } finally {
        if (method.getName().equals("writer")) {
          writerCalls.release();
        }
      }
      if (result instanceof ReaderAt reader) {
        readersOpened.incrementAndGet();
        return countingReader(reader);
      }
      if (result instanceof Writer writer) {
        return gatedWriter(writer);
      }
      return result;
    });
  }

  /** A writer whose close waits for {@link #closeGate}, as an S3 writer's close takes requests. */
  private Writer gatedWriter(Writer writer) {
    return proxy(Writer.class, (p, method, args) -> {
      if (method.getName().equals("close") && method.getParameterCount() == 0) {
        closesEntered.release();
        CountDownLatch gate = closeGate.get();
        if (gate != null && !gate.await(60, TimeUnit.SECONDS)) {
          throw new IllegalStateException("close gate not opened within 60 s");
        }
      }
      return invoke(writer, method, args);
    });
  }

  /** How many calls of the store's method {@code name} were made. */
  long calls(String name) {
    AtomicLong n = calls.get(name);
    return n == null ? 0 : n.get();
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
