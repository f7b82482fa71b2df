package dev.coffer.store.spi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ForwardingContentStoreTest {

  /** One call the delegate received. */
  private record Call(Method method, List<Object> args) {}

  private final List<Call> calls = new ArrayList<>();
  /** What the delegate answered last: a fresh stand-in for interface results, else null. */
  private Object answer;

  private final ContentStore delegate = (ContentStore) Proxy.newProxyInstance(
      ContentStore.class.getClassLoader(), new Class<?>[] {ContentStore.class},
      (proxy, method, args) -> {
        calls.add(new Call(method, args == null ? List.of() : Arrays.asList(args)));
        answer = stub(method.getReturnType());
        return answer;
      });

  private final ForwardingContentStore forwarding = new ForwardingContentStore() {
    @Override
    protected ContentStore delegate() {
      return delegate;
    }
  };

  static Stream<Method> forwardedMethods() {
    return Arrays.stream(ContentStore.class.getMethods())
        .filter(m -> !Modifier.isStatic(m.getModifiers()))
        .filter(m -> !(m.getName().equals("readerAt")
            && m.getParameterTypes()[0] == Digest.class));
  }

  @ParameterizedTest
  @MethodSource("forwardedMethods")
  void everyOperationIsForwardedWithItsArgumentsOnce(Method method) throws Exception {
    Object[] args = Arrays.stream(method.getParameterTypes()).map(this::argument).toArray();

    Object result = method.invoke(forwarding, args);

    assertThat(calls).hasSize(1);
    assertThat(calls.get(0).method()).isEqualTo(method);
    assertThat(calls.get(0).args()).containsExactly(args);
    assertThat(result).isSameAs(answer);
    assertThat(ForwardingContentStore.class.getDeclaredMethod(method.getName(),
        method.getParameterTypes()).getDeclaringClass()).isEqualTo(ForwardingContentStore.class);
  }

  @Test
  void readerAtOfADigestGoesThroughTheDescriptorOverloadASubclassMayOverride() {
    Digest digest = Digest.of(new byte[0]);

    forwarding.readerAt(digest);

    assertThat(calls).singleElement().satisfies(call -> {
      assertThat(call.method().getName()).isEqualTo("readerAt");
      assertThat(call.args()).containsExactly(Descriptor.of(digest));
    });
  }

  private Object argument(Class<?> type) {
    if (type == boolean.class) {
      return true;
    }
    if (type == long.class) {
      return 42L;
    }
    if (type.isArray()) {
      return java.lang.reflect.Array.newInstance(type.getComponentType(), 1);
    }
    return stub(type);
  }

  /** A stand-in of an interface type that answers nothing; null for other types. */
  private static Object stub(Class<?> type) {
    return !type.isInterface() ? null
        : Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type},
            (p, m, a) -> switch (m.getName()) {
              case "equals" -> p == a[0];
              case "hashCode" -> System.identityHashCode(p);
              case "toString" -> "stub " + type.getSimpleName();
              default -> null;
            });
  }
}
