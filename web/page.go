package web

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A page template: the subset of html/template's language that report.html uses, executed
// with the output html/template gives (its escaping, context by context), without
// html/template. Linking text/template costs every run of emu at start: it looks methods up
// by name, so the linker keeps every exported method of every type in the binary (a third
// of emu's size), and its packages' initialisation and the larger binary's page faults cost
// about 2 ms of a static hello's CPU time. TestPageIsHTMLTemplate checks that the output is
// html/template's, byte for byte.
//
// The language: text with actions {{.F}}, {{fn .F}} (fn a function of the page's funcs) and
// {{printf "FORMAT" .F}}, and {{range .F}}...{{end}} over a slice, whose body sees the
// element as dot. An action may stand in the text of an element, in a quoted attribute
// value, or in a CSS value in a quoted style attribute; anything else (unquoted attributes,
// URLs, scripts, style sheets, comments) is refused when the page is parsed.

// pageHTML is a value that is already HTML (html/template's template.HTML): not escaped.
type pageHTML string

// pageNode is one piece of a parsed page: text, an action, or a range.
type pageNode struct {
	text  string     // literal text (when field is "")
	field string     // the field of dot the action or range reads
	fn    string     // "": the value itself; "printf"; else a function of funcs
	fmt   string     // printf's format
	css   bool       // in a CSS value: filtered as html/template's cssValueFilter does
	body  []pageNode // a range's body (nil for an action)
	rng   bool
}

// pageTemplate is a parsed page.
type pageTemplate struct {
	nodes []pageNode
	funcs map[string]func(any) string
}

// parsePage parses src; funcs are the functions its actions may call.
func parsePage(src string, funcs map[string]func(any) string) (*pageTemplate, error) {
	p := &pageParser{src: src, funcs: funcs}
	nodes, end, err := p.parse()
	if err != nil {
		return nil, err
	}
	if end {
		return nil, errors.New("page: {{end}} without {{range}}")
	}
	if p.st != htmlText {
		return nil, errors.New("page: ends inside a tag")
	}
	return &pageTemplate{nodes: nodes, funcs: funcs}, nil
}

// htmlState is where the parser is in the page's HTML, which decides how an action's value
// is escaped.
type htmlState uint8

const (
	htmlText htmlState = iota // element content
	htmlTag                   // inside a tag, between attributes
	htmlAttr                  // inside a quoted attribute value
	htmlRaw                   // inside <style> or <script>, or a comment: no actions
)

type pageParser struct {
	src      string
	funcs    map[string]func(any) string
	st       htmlState
	quote    byte   // the attribute value's quote
	attr     string // the attribute's name
	name     string // the attribute name being read
	closeRaw string // what ends htmlRaw
}

// parse reads nodes up to the end of the source or an {{end}} (end true).
func (p *pageParser) parse() (nodes []pageNode, end bool, err error) {
	for len(p.src) > 0 {
		i := strings.Index(p.src, "{{")
		if i < 0 {
			i = len(p.src)
		}
		if i > 0 {
			if err := p.scan(p.src[:i]); err != nil {
				return nil, false, err
			}
			nodes = append(nodes, pageNode{text: p.src[:i]})
			p.src = p.src[i:]
			continue
		}
		j := strings.Index(p.src, "}}")
		if j < 0 {
			return nil, false, errors.New("page: unclosed action")
		}
		act := p.src[2:j]
		p.src = p.src[j+2:]
		if strings.HasPrefix(act, "-") || strings.HasSuffix(act, "-") || strings.HasPrefix(act, "/*") {
			return nil, false, fmt.Errorf("page: unsupported action {{%s}}", act)
		}
		words := strings.Fields(act)
		switch {
		case len(words) == 1 && words[0] == "end":
			return nodes, true, nil
		case len(words) == 2 && words[0] == "range":
			f, err := fieldName(words[1])
			if err != nil {
				return nil, false, err
			}
			if p.st != htmlText {
				return nil, false, errors.New("page: {{range}} inside a tag")
			}
			body, end, err := p.parse()
			if err != nil {
				return nil, false, err
			}
			if !end || p.st != htmlText {
				return nil, false, errors.New("page: {{range}} without {{end}} in element content")
			}
			nodes = append(nodes, pageNode{field: f, body: body, rng: true})
			continue
		}
		n, err := p.action(act)
		if err != nil {
			return nil, false, err
		}
		nodes = append(nodes, n)
	}
	return nodes, false, nil
}

// action parses one value action in the current context.
func (p *pageParser) action(act string) (pageNode, error) {
	var n pageNode
	switch p.st {
	case htmlText:
	case htmlAttr:
		switch {
		case p.attr == "style":
			n.css = true
		case p.attr == "href" || p.attr == "src" || p.attr == "srcset" || p.attr == "action" ||
			strings.HasPrefix(p.attr, "on") || p.quote != '"':
			return n, fmt.Errorf("page: {{%s}} in attribute %s is not supported", act, p.attr)
		}
	default:
		return n, fmt.Errorf("page: {{%s}} is not in element content or a quoted attribute", act)
	}
	rest := strings.TrimSpace(act)
	if strings.HasPrefix(rest, "printf ") {
		rest = strings.TrimSpace(rest[len("printf "):])
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return n, fmt.Errorf("page: {{%s}}: %v", act, err)
		}
		n.fn = "printf"
		n.fmt, _ = strconv.Unquote(q)
		rest = strings.TrimSpace(rest[len(q):])
	} else if words := strings.Fields(rest); len(words) == 2 {
		if p.funcs[words[0]] == nil {
			return n, fmt.Errorf("page: {{%s}}: no function %s", act, words[0])
		}
		n.fn, rest = words[0], words[1]
	}
	f, err := fieldName(rest)
	if err != nil {
		return n, err
	}
	n.field = f
	return n, nil
}

// fieldName is F of ".F".
func fieldName(s string) (string, error) {
	if len(s) < 2 || s[0] != '.' || strings.ContainsAny(s[1:], ". |()") {
		return "", fmt.Errorf("page: %q is not a field of dot", s)
	}
	return s[1:], nil
}

// scan follows text through the HTML states that decide actions' contexts.
func (p *pageParser) scan(t string) error {
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch p.st {
		case htmlRaw:
			if strings.HasPrefix(strings.ToLower(t[i:]), p.closeRaw) {
				p.st = htmlText
				i += len(p.closeRaw) - 1
				p.closeRaw = ""
			}
		case htmlText:
			switch {
			case strings.HasPrefix(t[i:], "<!--"):
				p.st, p.closeRaw = htmlRaw, "-->"
			case c == '<':
				p.st, p.name, p.attr, p.closeRaw = htmlTag, "", "", ""
				tag := strings.ToLower(t[i+1:])
				for _, raw := range []string{"style", "script", "textarea"} {
					if strings.HasPrefix(tag, raw) && len(tag) > len(raw) && (tag[len(raw)] == '>' || tag[len(raw)] == ' ') {
						p.closeRaw = "</" + raw
					}
				}
			}
		case htmlTag:
			switch {
			case c == '>':
				p.st = htmlText
				if p.closeRaw != "" {
					p.st = htmlRaw
				}
			case c == '"' || c == '\'':
				p.st, p.quote, p.attr = htmlAttr, c, strings.ToLower(p.name)
			case c == '=' || c == ' ' || c == '\n' || c == '\t' || c == '/':
				if c != '=' {
					p.name = ""
				}
			default:
				if i > 0 && t[i-1] == '=' {
					return errors.New("page: unquoted attribute values are not supported")
				}
				p.name += string(c)
			}
		case htmlAttr:
			if c == p.quote {
				p.st, p.name = htmlTag, ""
			}
		}
	}
	return nil
}

// execute writes the page for dot (a struct) to w.
func (t *pageTemplate) execute(w io.Writer, dot any) error {
	var b strings.Builder
	if err := t.run(&b, t.nodes, reflect.ValueOf(dot)); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (t *pageTemplate) run(b *strings.Builder, nodes []pageNode, dot reflect.Value) error {
	for _, n := range nodes {
		if n.field == "" {
			b.WriteString(n.text)
			continue
		}
		v := dot.FieldByName(n.field)
		if !v.IsValid() {
			return fmt.Errorf("page: no field %s in %s", n.field, dot.Type())
		}
		if n.rng {
			if v.Kind() != reflect.Slice {
				return fmt.Errorf("page: range over %s", v.Type())
			}
			for i := 0; i < v.Len(); i++ {
				if err := t.run(b, n.body, v.Index(i)); err != nil {
					return err
				}
			}
			continue
		}
		x := v.Interface()
		var s string
		switch {
		case n.fn == "printf":
			s = fmt.Sprintf(n.fmt, x)
		case n.fn != "":
			s = t.funcs[n.fn](x)
		default:
			if h, ok := x.(pageHTML); ok {
				b.WriteString(string(h)) // HTML already, in element content
				continue
			}
			s = fmt.Sprint(x)
		}
		if n.css {
			s = cssValue(s)
		}
		b.WriteString(escapeHTML(s))
	}
	return nil
}

// escapeHTML is html/template's escaper for element content, RCDATA and quoted attribute
// values (its htmlReplacementTable; other runes, valid or not, are kept).
func escapeHTML(s string) string { return escapeBytes(s, "\x00\"&'+<>") }

// escapeText is text/template's HTMLEscapeString (html/template's too), for the charts'
// labels: escapeHTML but for '+'.
func escapeText(s string) string { return escapeBytes(s, "\x00\"&'<>") }

// escapeBytes replaces the bytes of s listed in special by their entities (NUL by U+FFFD).
func escapeBytes(s, special string) string {
	if !strings.ContainsAny(s, special) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if strings.IndexByte(special, c) < 0 {
			b.WriteByte(c)
			continue
		}
		switch c {
		case 0:
			b.WriteString("\uFFFD")
		case '"':
			b.WriteString("&#34;")
		case '&':
			b.WriteString("&amp;")
		case '\'':
			b.WriteString("&#39;")
		case '+':
			b.WriteString("&#43;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		}
	}
	return b.String()
}

// cssFailsafe is what html/template writes for a CSS value it refuses.
const cssFailsafe = "ZgotmplZ"

// cssValue is html/template's cssValueFilter for the values a page puts in a style
// attribute: a value that could end the declaration or hide script is replaced by
// cssFailsafe. A value with a CSS escape (a backslash) is refused as well (html/template
// would decode it first; the pages' values, colours and numbers, have none).
func cssValue(s string) string {
	lower := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 0, '"', '\'', '(', ')', '/', ';', '@', '[', '\\', ']', '`', '{', '}', '<', '>':
			return cssFailsafe
		case '-':
			if i != 0 && s[i-1] == '-' {
				return cssFailsafe
			}
		default:
			if c >= utf8.RuneSelf {
				continue
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' {
				lower = append(lower, c)
			}
		}
	}
	if strings.Contains(string(lower), "expression") || strings.Contains(string(lower), "mozbinding") {
		return cssFailsafe
	}
	return s
}
