// Command pclntab-dump prints every function in a Go binary's pclntab as "entry size name" lines, using
// the standard library's debug/gosym: the anchor our TypeScript reader is compared against in
// test/go/pclntab.test.ts. ELF and Mach-O use the named section; PE uses the runtime.pclntab and
// runtime.epclntab symbols (so it needs an unstripped PE).
package main

import (
	"debug/elf"
	"debug/gosym"
	"debug/macho"
	"debug/pe"
	"fmt"
	"os"
)

func fromELF(f *elf.File) ([]byte, uint64) {
	var data []byte
	for _, name := range []string{".gopclntab", ".data.rel.ro.gopclntab"} {
		if s := f.Section(name); s != nil {
			data, _ = s.Data()
			break
		}
	}
	return data, f.Section(".text").Addr
}

func fromMachO(f *macho.File) ([]byte, uint64) {
	s := f.Section("__gopclntab")
	if s == nil {
		return nil, 0
	}
	data, _ := s.Data()
	return data, f.Section("__text").Addr
}

func fromPE(f *pe.File) ([]byte, uint64) {
	var base uint64
	switch oh := f.OptionalHeader.(type) {
	case *pe.OptionalHeader32:
		base = uint64(oh.ImageBase)
	case *pe.OptionalHeader64:
		base = oh.ImageBase
	}
	var start, end *pe.Symbol
	for _, s := range f.Symbols {
		switch s.Name {
		case "runtime.pclntab":
			start = s
		case "runtime.epclntab":
			end = s
		}
	}
	if start == nil || end == nil || start.SectionNumber <= 0 {
		return nil, 0
	}
	sect := f.Sections[start.SectionNumber-1]
	data, _ := sect.Data()
	text := f.Section(".text")
	return data[start.Value:end.Value], base + uint64(text.VirtualAddress)
}

func main() {
	path := os.Args[1]
	var data []byte
	var text uint64
	if f, err := elf.Open(path); err == nil {
		data, text = fromELF(f)
	} else if f, err := macho.Open(path); err == nil {
		data, text = fromMachO(f)
	} else if f, err := pe.Open(path); err == nil {
		data, text = fromPE(f)
	}
	if data == nil {
		fmt.Println("none")
		return
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, text))
	if err != nil {
		fmt.Println("error", err)
		return
	}
	for _, fn := range tab.Funcs {
		fmt.Printf("%x %d %s\n", fn.Entry, fn.End-fn.Entry, fn.Name)
	}
}
