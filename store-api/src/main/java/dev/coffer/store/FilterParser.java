package dev.coffer.store;

import dev.coffer.store.spi.Messages;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** The parser and evaluator behind {@link Filter}. */
final class FilterParser {

  private enum Operator { PRESENT, EQUAL, NOT_EQUAL, MATCHES }

  private record Selector(List<String> fieldpath, Operator operator, String value, Pattern regex) {
    boolean test(Function<List<String>, Optional<String>> fields) {
      Optional<String> field = fields.apply(fieldpath);
      return switch (operator) {
        case PRESENT -> field.isPresent();
        case EQUAL -> field.isPresent() && field.get().equals(value);
        case NOT_EQUAL -> field.isEmpty() || !field.get().equals(value);
        case MATCHES -> field.isPresent() && regex.matcher(field.get()).find();
      };
    }
  }

  /** Selectors ANDed within a conjunction; conjunctions ORed. Empty list of conjunctions: all. */
  private record Parsed(List<List<Selector>> any) implements Filter {
    @Override
    public boolean matches(Info info) {
      return test(path -> infoField(info, path));
    }

    @Override
    public boolean matches(Status status) {
      return test(path -> statusField(status, path));
    }

    @Override
    public List<List<String>> fieldpaths() {
      return any.stream().flatMap(List::stream).map(Selector::fieldpath).toList();
    }

    private boolean test(Function<List<String>, Optional<String>> fields) {
      if (any.isEmpty()) {
        return true;
      }
      for (List<Selector> all : any) {
        if (all.stream().allMatch(s -> s.test(fields))) {
          return true;
        }
      }
      return false;
    }

    @Override
    public String toString() {
      return "Filter" + any;
    }
  }

  private FilterParser() {}

  static Filter parse(String... filters) {
    List<List<Selector>> any = new ArrayList<>();
    if (filters != null) {
      for (String f : filters) {
        if (f == null || f.isEmpty()) {
          return new Parsed(List.of()); // an empty filter matches everything, as containerd's
        }
        any.add(new Scanner(f).selectors());
      }
    }
    return new Parsed(List.copyOf(any));
  }

  static Optional<String> infoField(Info info, List<String> path) {
    return switch (path.get(0)) {
      case "digest" -> path.size() == 1 ? Optional.of(info.digest().toString()) : Optional.empty();
      case "labels" -> path.size() == 1
          ? Optional.empty()
          : Optional.ofNullable(info.labels().get(String.join(".", path.subList(1, path.size()))));
      default -> Optional.empty();
    };
  }

  static Optional<String> statusField(Status status, List<String> path) {
    if (path.size() == 1 && path.get(0).equals("ref")) {
      return Optional.of(status.ref());
    }
    return Optional.empty();
  }

  /** A recursive-descent parser over one filter string. */
  private static final class Scanner {
    private final String input;
    private int pos;

    Scanner(String input) {
      this.input = input;
    }

    List<Selector> selectors() {
      List<Selector> selectors = new ArrayList<>();
      skipSpace();
      selectors.add(selector());
      skipSpace();
      while (pos < input.length()) {
        expect(',');
        skipSpace();
        selectors.add(selector());
        skipSpace();
      }
      return List.copyOf(selectors);
    }

    private Selector selector() {
      List<String> path = new ArrayList<>();
      path.add(field());
      while (peek() == '.') {
        pos++;
        path.add(field());
      }
      skipSpace();
      Operator op = operator();
      if (op == Operator.PRESENT) {
        return new Selector(List.copyOf(path), op, null, null);
      }
      skipSpace();
      String value = value(op == Operator.MATCHES);
      Pattern regex = null;
      if (op == Operator.MATCHES) {
        try {
          regex = Pattern.compile(value);
        } catch (PatternSyntaxException e) {
          throw error("invalid regular expression \"" + value + "\": " + e.getDescription());
        }
      }
      return new Selector(List.copyOf(path), op, value, regex);
    }

    private String field() {
      char c = peek();
      if (c == '"') {
        return quoted('"', true);
      }
      if (!(isAlpha(c) || c == '_')) {
        throw error(pos >= input.length() ? "expected a field name at end of filter"
            : "expected a field name, found '" + c + "'");
      }
      int start = pos;
      while (pos < input.length() && (isAlpha(peek()) || isDigit(peek()) || peek() == '_')) {
        pos++;
      }
      return input.substring(start, pos);
    }

    private Operator operator() {
      if (pos >= input.length() || peek() == ',') {
        return Operator.PRESENT;
      }
      // As containerd's scanner: a run of operator characters is one operator, so "===" is an
      // unsupported operator rather than "==" followed by a value starting with "=".
      int start = pos;
      while (pos < input.length() && "=!~".indexOf(peek()) >= 0) {
        pos++;
      }
      String op = input.substring(start, pos);
      switch (op) {
        case "==":
          return Operator.EQUAL;
        case "!=":
          return Operator.NOT_EQUAL;
        case "~=":
          return Operator.MATCHES;
        case "":
          throw error("expected an operator (==, !=, ~=), ',' or end, found '" + peek() + "'");
        default:
          pos = start;
          throw error("unsupported operator \"" + op + "\": expected an operator (==, !=, ~=)");
      }
    }

    private String value(boolean regex) {
      char c = peek();
      if (c == '"') {
        return quoted('"', true);
      }
      if (regex && (c == '/' || c == '|')) {
        return quoted(c, false);
      }
      int start = pos;
      while (pos < input.length() && !Character.isWhitespace(peek()) && peek() != ',') {
        pos++;
      }
      if (start == pos) {
        throw error("expected a value");
      }
      return input.substring(start, pos);
    }

    /**
     * A quoted string from the opening {@code delimiter}. With {@code escapes}, Go-style escapes are
     * decoded; otherwise only an escaped delimiter is, and other backslashes are kept (regexes).
     */
    private String quoted(char delimiter, boolean escapes) {
      int start = pos;
      pos++;
      StringBuilder sb = new StringBuilder();
      while (pos < input.length()) {
        char c = input.charAt(pos++);
        if (c == delimiter) {
          return sb.toString();
        }
        if (c != '\\') {
          sb.append(c);
          continue;
        }
        if (pos >= input.length()) {
          break;
        }
        char e = input.charAt(pos++);
        if (e == delimiter) {
          sb.append(e);
        } else if (!escapes) {
          sb.append('\\').append(e);
        } else {
          switch (e) {
            case '\\' -> sb.append('\\');
            case '"' -> sb.append('"');
            case '\'' -> sb.append('\'');
            case '/' -> sb.append('/');
            case 'n' -> sb.append('\n');
            case 't' -> sb.append('\t');
            case 'r' -> sb.append('\r');
            case 'a' -> sb.append('\u0007');
            case 'b' -> sb.append('\b');
            case 'f' -> sb.append('\f');
            case 'v' -> sb.append('\u000b');
            case 'x' -> sb.append((char) hex(2));
            case 'u' -> sb.appendCodePoint(hex(4));
            case 'U' -> sb.appendCodePoint(hex(8));
            default -> throw error("invalid escape '\\" + e + "' in quoted string");
          }
        }
      }
      pos = start;
      throw error("unterminated quoted string");
    }

    private int hex(int digits) {
      if (pos + digits > input.length()) {
        throw error("truncated escape");
      }
      long v = 0;
      for (int i = 0; i < digits; i++) {
        // ASCII hex digits only: Integer.parseInt would take a sign ("\\x+1") and Character.digit
        // other scripts' digits.
        char c = input.charAt(pos + i);
        if (!HexFormat.isHexDigit(c)) {
          throw error("invalid hexadecimal escape");
        }
        v = v * 16 + HexFormat.fromHexDigit(c);
      }
      if (v > Character.MAX_CODE_POINT) {
        throw error("invalid code point in escape");
      }
      pos += digits;
      return (int) v;
    }

    private void expect(char c) {
      if (peek() != c) {
        throw error(pos >= input.length() ? "expected '" + c + "' at end of filter"
            : "expected '" + c + "', found '" + peek() + "'");
      }
      pos++;
    }

    private char peek() {
      return pos < input.length() ? input.charAt(pos) : '\0';
    }

    private void skipSpace() {
      while (pos < input.length() && Character.isWhitespace(input.charAt(pos))) {
        pos++;
      }
    }

    private InvalidArgumentException error(String what) {
      return new InvalidArgumentException("invalid filter \"" + Messages.printable(input)
          + "\" at position " + pos + ": " + what);
    }

    private static boolean isAlpha(char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private static boolean isDigit(char c) {
      return c >= '0' && c <= '9';
    }
  }
}
