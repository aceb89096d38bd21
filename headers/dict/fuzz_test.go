package dict

import (
	"bytes"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, b := range confFiles(f) {
		f.Add(b)
	}
	for _, b := range requestDicts(f)[:1] {
		f.Add(b)
	}
	f.Add([]byte("a=1\r\n\nx\n=e\\q\\\nb=\\0\\e\x00c=1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		m1 := d.AppendMarshal(nil)
		if len(m1) != d.Size() {
			t.Fatalf("Size %d, marshaled %d", d.Size(), len(m1))
		}
		d2, err := ParseLimit(m1, len(m1)+1)
		if err != nil {
			t.Fatal(err)
		}
		if d2.Len() != d.Len() {
			t.Fatalf("entries %d then %d", d.Len(), d2.Len())
		}
		for i, e := range d.Entries() {
			e2 := d2.Entries()[i]
			if e.Key != e2.Key || !bytes.Equal(e.Value, e2.Value) {
				t.Fatalf("entry %d: %q=%q then %q=%q", i, e.Key, e.Value, e2.Key, e2.Value)
			}
			v, _ := d.Get(e.Key)
			v2, _ := d2.Get(e.Key)
			if !bytes.Equal(v, v2) || d.Uint(e.Key, 1) != d2.Uint(e.Key, 1) || d.Int(e.Key, 1) != d2.Int(e.Key, 1) {
				t.Fatalf("lookup of %q differs", e.Key)
			}
		}
		if m2 := d2.AppendMarshal(nil); !bytes.Equal(m1, m2) {
			t.Fatalf("marshal not stable:\n%q\n%q", m1, m2)
		}
	})
}
