package dev.coffer.s3sim;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;
import javax.xml.stream.XMLStreamWriter;

/** S3's XML documents, with the JDK's StAX: a writer for answers, a small tree for requests. */
final class Xml {
  /** S3's namespace on every result document (error documents have none). */
  static final String NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/";

  private static final XMLOutputFactory OUTPUT = XMLOutputFactory.newFactory();
  private static final XMLInputFactory INPUT = XMLInputFactory.newFactory();

  static {
    // Request bodies come from clients: no DTDs, no external entities.
    INPUT.setProperty(XMLInputFactory.SUPPORT_DTD, false);
    INPUT.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
  }

  private Xml() {}

  /** Writes one document. Not thread-safe. */
  static final class Writer {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final XMLStreamWriter xml;

    /** A document with root {@code root}, in S3's namespace if {@code namespaced}. */
    Writer(String root, boolean namespaced) {
      try {
        xml = OUTPUT.createXMLStreamWriter(out, "UTF-8");
        xml.writeStartDocument("UTF-8", "1.0");
        xml.writeStartElement(root);
        if (namespaced) {
          xml.writeDefaultNamespace(NAMESPACE);
        }
      } catch (XMLStreamException e) {
        throw new IllegalStateException(e);
      }
    }

    Writer start(String name) {
      try {
        xml.writeStartElement(name);
      } catch (XMLStreamException e) {
        throw new IllegalStateException(e);
      }
      return this;
    }

    Writer end() {
      try {
        xml.writeEndElement();
      } catch (XMLStreamException e) {
        throw new IllegalStateException(e);
      }
      return this;
    }

    /** An element with text; nothing if {@code value} is null. */
    Writer element(String name, Object value) {
      if (value == null) {
        return this;
      }
      try {
        xml.writeStartElement(name);
        xml.writeCharacters(value.toString());
        xml.writeEndElement();
      } catch (XMLStreamException e) {
        throw new IllegalStateException(e);
      }
      return this;
    }

    byte[] bytes() {
      try {
        xml.writeEndDocument();
        xml.close();
      } catch (XMLStreamException e) {
        throw new IllegalStateException(e);
      }
      return out.toByteArray();
    }
  }

  /** An element of a request document: its local name, text and child elements. */
  record Node(String name, String text, List<Node> children) {
    /** The children named {@code name}. */
    List<Node> all(String childName) {
      return children.stream().filter(c -> c.name.equals(childName)).toList();
    }

    /** The text of the first child named {@code name}, or null. */
    String text(String childName) {
      return children.stream().filter(c -> c.name.equals(childName)).findFirst()
          .map(Node::text).orElse(null);
    }
  }

  /**
   * The root element of a request body.
   *
   * @throws S3Error MalformedXML if it does not parse
   */
  static Node parse(byte[] body) {
    try {
      XMLStreamReader reader = INPUT.createXMLStreamReader(new ByteArrayInputStream(body));
      try {
        while (reader.hasNext()) {
          if (reader.next() == XMLStreamConstants.START_ELEMENT) {
            return read(reader);
          }
        }
        throw S3Error.malformedXml();
      } finally {
        reader.close();
      }
    } catch (XMLStreamException e) {
      throw S3Error.malformedXml();
    }
  }

  private static Node read(XMLStreamReader reader) throws XMLStreamException {
    String name = reader.getLocalName();
    StringBuilder text = new StringBuilder();
    List<Node> children = new ArrayList<>();
    while (true) {
      int event = reader.next();
      switch (event) {
        case XMLStreamConstants.START_ELEMENT -> children.add(read(reader));
        case XMLStreamConstants.CHARACTERS, XMLStreamConstants.CDATA,
            XMLStreamConstants.SPACE -> text.append(reader.getText());
        case XMLStreamConstants.END_ELEMENT -> {
          return new Node(name, children.isEmpty() ? text.toString() : text.toString().strip(),
              List.copyOf(children));
        }
        case XMLStreamConstants.END_DOCUMENT -> throw S3Error.malformedXml();
        default -> { }
      }
    }
  }
}
