package gopdf

// TtfOption  font option
type TtfOption struct {
	UseKerning                bool
	Style                     int               //Regular|Bold|Italic
	OnGlyphNotFound           func(r rune)      //Called when a glyph cannot be found, just for debugging
	OnGlyphNotFoundSubstitute func(r rune) rune //Called when a glyph cannot be found, we can return a new rune to replace it.

	// EmbedProgram (ecert patch) is the font program to embed exactly as
	// given instead of the subset gopdf builds from the parsed font at
	// WriteTo. Only for font data that is already a subset holding just the
	// glyphs the document draws, so that gopdf's glyph IDs (the CIDs it
	// writes) are the program's own. nil: gopdf builds the subset.
	EmbedProgram *FontProgram
}

// FontProgram (ecert patch) is a TrueType font program compressed once by
// the caller.
type FontProgram struct {
	Zlib    []byte // the program as a zlib (FlateDecode) stream
	Length1 int    // its uncompressed length
}

func defaultTtfFontOption() TtfOption {
	var defa TtfOption
	defa.UseKerning = false
	defa.Style = Regular
	defa.OnGlyphNotFoundSubstitute = DefaultOnGlyphNotFoundSubstitute
	return defa
}

func DefaultOnGlyphNotFoundSubstitute(r rune) rune {
	return rune('\u0020')
}
