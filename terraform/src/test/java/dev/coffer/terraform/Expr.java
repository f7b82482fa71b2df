package dev.coffer.terraform;

import com.bertramlabs.plugins.hcl4j.RuntimeSymbols.Function;
import com.bertramlabs.plugins.hcl4j.RuntimeSymbols.GroupedExpression;
import com.bertramlabs.plugins.hcl4j.RuntimeSymbols.Operator;
import com.bertramlabs.plugins.hcl4j.RuntimeSymbols.PrimitiveType;
import com.bertramlabs.plugins.hcl4j.RuntimeSymbols.StringInterpolatedExpression;
import com.bertramlabs.plugins.hcl4j.RuntimeSymbols.Variable;
import com.bertramlabs.plugins.hcl4j.RuntimeSymbols.VariableTree;
import com.bertramlabs.plugins.hcl4j.symbols.HCLArray;
import com.bertramlabs.plugins.hcl4j.symbols.HCLAttribute;
import com.bertramlabs.plugins.hcl4j.symbols.HCLBlock;
import com.bertramlabs.plugins.hcl4j.symbols.HCLValue;
import com.bertramlabs.plugins.hcl4j.symbols.Symbol;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * An HCL expression as the lexer tokenised it. {@link #text()} is a canonical rendering (tokens separated
 * by single spaces, templates re-quoted, e.g. {@code var.kms_key_arn == null ? "AES256" : "aws:kms"} or
 * {@code "${var.prefix}ingest/"}); two expressions are equal when their texts are. {@link #evaluate}
 * covers the subset documented on {@link HclConfig#evaluate} and throws for anything else, so that a
 * test never asserts a value that was guessed.
 */
final class Expr {

  private final List<Symbol> tokens;
  private final String text;

  Expr(List<Symbol> tokens) {
    this.tokens = List.copyOf(tokens);
    this.text = render(this.tokens);
  }

  String text() {
    return text;
  }

  Object evaluate(java.util.function.Function<String, Object> references) {
    return evaluate(tokens, references);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Expr expr && expr.text.equals(text);
  }

  @Override
  public int hashCode() {
    return text.hashCode();
  }

  @Override
  public String toString() {
    return text;
  }

  private static Object evaluate(List<Symbol> tokens, java.util.function.Function<String, Object> references) {
    int question = indexOfOperator(tokens, "?", 0);
    if (question >= 0) {
      int colon = indexOfOperator(tokens, ":", question + 1);
      if (colon < 0 || indexOfOperator(tokens, "?", question + 1) >= 0) {
        throw unsupported(tokens);
      }
      Object condition = evaluate(tokens.subList(0, question), references);
      if (!(condition instanceof Boolean chosen)) {
        throw new IllegalArgumentException("condition of " + render(tokens) + " is " + condition + ", not a bool");
      }
      return chosen
          ? evaluate(tokens.subList(question + 1, colon), references)
          : evaluate(tokens.subList(colon + 1, tokens.size()), references);
    }
    if (tokens.size() == 3 && tokens.get(1) instanceof Operator operator) {
      Object left = evaluateOne(tokens.get(0), references);
      Object right = evaluateOne(tokens.get(2), references);
      return switch (operator.getName()) {
        case "==" -> Objects.equals(left, right);
        case "!=" -> !Objects.equals(left, right);
        default -> throw unsupported(tokens);
      };
    }
    if (tokens.size() == 1) {
      return evaluateOne(tokens.get(0), references);
    }
    throw unsupported(tokens);
  }

  private static Object evaluateOne(Symbol token, java.util.function.Function<String, Object> references) {
    if (token instanceof HCLValue value) {
      return HclConfig.literal(value);
    }
    if (token instanceof HCLArray array) {
      List<Object> elements = new ArrayList<>();
      for (Symbol element : HclConfig.children(array)) {
        elements.add(evaluateOne(element, references));
      }
      return elements;
    }
    if (token instanceof HCLBlock object) {
      Map<String, Object> attributes = new LinkedHashMap<>();
      for (Symbol attribute : HclConfig.children(object)) {
        attributes.put(attribute.getName(), evaluate(HclConfig.children(attribute), references));
      }
      return attributes;
    }
    if (token instanceof VariableTree tree
        && HclConfig.children(tree).stream().allMatch(part -> part instanceof Variable)) {
      return references.apply(render(tree));
    }
    if (token instanceof StringInterpolatedExpression template) {
      StringBuilder out = new StringBuilder();
      for (Symbol part : HclConfig.children(template)) {
        if (part instanceof HCLValue literal) {
          out.append(literal.value);
        } else if (part instanceof StringInterpolatedExpression interpolation) {
          Object value = evaluate(HclConfig.children(interpolation), references);
          if (value == null) {
            throw new IllegalArgumentException("null interpolated into " + render(template));
          }
          out.append(value);
        } else if (!(part instanceof Operator)) {
          throw unsupported(List.of(template));
        }
      }
      return out.toString();
    }
    throw unsupported(List.of(token));
  }

  private static int indexOfOperator(List<Symbol> tokens, String name, int from) {
    for (int i = from; i < tokens.size(); i++) {
      if (tokens.get(i) instanceof Operator operator && name.equals(operator.getName())) {
        return i;
      }
    }
    return -1;
  }

  private static UnsupportedOperationException unsupported(List<Symbol> tokens) {
    return new UnsupportedOperationException("cannot evaluate " + render(tokens) + " here");
  }

  static String render(List<Symbol> tokens) {
    return tokens.stream().map(Expr::render).collect(Collectors.joining(" "));
  }

  private static String render(Symbol token) {
    if (token instanceof HCLValue value) {
      Object literal = HclConfig.literal(value);
      return literal instanceof String string ? quote(string) : String.valueOf(literal);
    }
    if (token instanceof HCLArray array) {
      return HclConfig.children(array).stream().map(Expr::render).collect(Collectors.joining(", ", "[", "]"));
    }
    if (token instanceof HCLBlock object) {
      Map<String, String> attributes = new LinkedHashMap<>();
      for (Symbol child : HclConfig.children(object)) {
        attributes.put(child.getName(), render(HclConfig.children(child)));
      }
      return attributes.entrySet().stream()
          .map(e -> e.getKey() + " = " + e.getValue())
          .collect(Collectors.joining(", ", "{ ", " }"));
    }
    if (token instanceof VariableTree tree) {
      StringBuilder out = new StringBuilder();
      for (Symbol part : HclConfig.children(tree)) {
        if (part instanceof Function || part instanceof HCLArray) {
          out.append(render(part));
        } else {
          out.append(out.length() == 0 ? "" : ".").append(part.getName());
        }
      }
      return out.toString();
    }
    if (token instanceof Function function) {
      // The lexer drops the commas: each child is one argument (multi-token arguments are not supported).
      return HclConfig.children(function).stream()
          .map(Expr::render)
          .collect(Collectors.joining(", ", function.getName() + "(", ")"));
    }
    if (token instanceof StringInterpolatedExpression template) {
      StringBuilder out = new StringBuilder("\"");
      for (Symbol part : HclConfig.children(template)) {
        if (part instanceof HCLValue literal) {
          out.append(literal.value);
        } else if (part instanceof StringInterpolatedExpression interpolation) {
          out.append("${").append(render(HclConfig.children(interpolation))).append('}');
        }
      }
      return out.append('"').toString();
    }
    if (token instanceof Operator || token instanceof HCLAttribute) {
      return token.getName();
    }
    if (token instanceof PrimitiveType type) {
      List<Symbol> subtypes = HclConfig.children(type);
      return subtypes.isEmpty() ? type.getName() : type.getName() + "(" + render(subtypes) + ")";
    }
    if (token instanceof GroupedExpression group) {
      return "(" + render(HclConfig.children(group)) + ")";
    }
    throw new IllegalArgumentException("unsupported HCL token " + token.getClass().getSimpleName());
  }

  private static String quote(String string) {
    return '"' + string.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
  }
}
