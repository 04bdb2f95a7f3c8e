package profiles

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// valueError is a value an UnmarshalJSON method refused; raw is its JSON
// text, so the error can be placed in the document.
type valueError struct {
	raw []byte
	err error
}

func (e *valueError) Error() string { return e.err.Error() }
func (e *valueError) Unwrap() error { return e.err }

// fieldError is a value Validate refused, with the path of its field
// ("filesystem.rules[2].path"), so that Parse can say where it is.
type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return "field " + e.field + ": " + e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

// placeFieldError prefixes a fieldError from Validate with the line and
// column of its field in b.
func placeFieldError(b []byte, err error) error {
	var fe *fieldError
	if !errors.As(err, &fe) {
		return err
	}
	if off := fieldOffset(b, fe.field); off >= 0 {
		return fmt.Errorf("%s: %w", position(b, off), err)
	}
	return err
}

// describeJSONError turns a decoding error into one that says where:
// the line and column, and the field path with indexes
// ("syscalls[3].action").
func describeJSONError(b []byte, err error) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return errors.New("empty file (want a JSON profile object)")
	}
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	var ve *valueError
	switch {
	case errors.As(err, &te):
		// te.Offset is just past the value; name where it starts.
		path, start := pathAt(b, te.Offset)
		if path == "" {
			return fmt.Errorf("%s: the profile is a JSON %s, want an object", position(b, start), te.Value)
		}
		return fmt.Errorf("%s: field %s: %s is not %s", position(b, start), path, te.Value, te.Type)
	case errors.As(err, &se):
		return fmt.Errorf("%s: %w", position(b, se.Offset-1), err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: unexpected end of file (truncated profile?)", position(b, int64(len(b))))
	case errors.As(err, &ve):
		if off := valueOffset(b, ve.raw); off >= 0 {
			path, _ := pathAt(b, off+1)
			return fmt.Errorf("%s: field %s: %w", position(b, off), path, ve.err)
		}
		return ve.err
	}
	if msg, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Errorf("unknown field %s", msg)
	}
	return err
}

// position is "line L, column C" of byte offset off (both from 1).
func position(b []byte, off int64) string {
	off = min(max(off, 0), int64(len(b)))
	before := b[:off]
	line := 1 + bytes.Count(before, []byte("\n"))
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

// valueOffset is the offset of the first value (not key) whose JSON text
// is raw, or -1.
func valueOffset(b, raw []byte) int64 {
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return -1
		}
		if s, ok := tok.(string); ok {
			if q, _ := json.Marshal(s); bytes.Equal(q, raw) {
				// InputOffset before Token may sit on the separator.
				if i := bytes.Index(b[start:], raw); i >= 0 {
					return start + int64(i)
				}
			}
		}
	}
}

// pathAt returns the path of the innermost value that starts before off
// ("syscalls[2].args[0].op", or "" for the top level) and its offset.
func pathAt(b []byte, off int64) (string, int64) {
	last, lastStart := "", int64(0)
	walkValues(b, func(path string, start int64) bool {
		if start >= off {
			return false
		}
		last, lastStart = path, start
		return true
	})
	return last, lastStart
}

// fieldOffset is the offset of the value at field (a path as pathAt
// returns), or -1.
func fieldOffset(b []byte, field string) int64 {
	found := int64(-1)
	walkValues(b, func(path string, start int64) bool {
		if path == field {
			found = start
			return false
		}
		return true
	})
	return found
}

// walkValues calls visit with the path and offset of every value of the
// JSON document b, in order, until visit returns false.
func walkValues(b []byte, visit func(path string, start int64) bool) {
	type frame struct {
		array   bool
		index   int
		key     string
		wantKey bool
	}
	var stack []*frame
	path := func() string {
		var sb strings.Builder
		for _, f := range stack {
			if f.array {
				sb.WriteString("[" + strconv.Itoa(f.index) + "]")
				continue
			}
			if sb.Len() > 0 {
				sb.WriteByte('.')
			}
			sb.WriteString(f.key)
		}
		return sb.String()
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		start := dec.InputOffset()
		for start < int64(len(b)) && strings.IndexByte(" \t\r\n:,", b[start]) >= 0 {
			start++
		}
		tok, err := dec.Token()
		if err != nil {
			break
		}
		var top *frame
		if n := len(stack); n > 0 {
			top = stack[n-1]
		}
		if s, ok := tok.(string); ok && top != nil && !top.array && top.wantKey {
			top.key, top.wantKey = s, false
			continue
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if top != nil && top.array {
				top.index++
			}
			if !visit(path(), start) {
				return
			}
			stack = append(stack, &frame{array: tok == json.Delim('['), index: -1, wantKey: tok == json.Delim('{')})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if n := len(stack); n > 0 && !stack[n-1].array {
				stack[n-1].wantKey = true
			}
		default:
			if top != nil && top.array {
				top.index++
			}
			if !visit(path(), start) {
				return
			}
			if top != nil && !top.array {
				top.wantKey = true
			}
		}
	}
}
