// Package picturetest builds small pictures that carry metadata, for
// tests that check it never reaches anyone: a PNG with text chunks, a
// JPEG with EXIF (orientation and GPS) and a comment, a WebP with EXIF
// and XMP. Each hides the marker it is given in every place it can.
package picturetest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
)

// PNGWithText is a 6×4 PNG with one red pixel at (1, 2) and the marker in
// a tEXt, an iTXt and an eXIf chunk, before the image data as cameras and
// editors put them.
func PNGWithText(marker string) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 6, 4))
	img.Set(1, 2, color.RGBA{R: 200, G: 10, B: 30, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	raw := b.Bytes()
	ihdrEnd := 8 + 8 + 13 + 4
	var chunks []byte
	for _, c := range []struct{ typ, data string }{
		{"tEXt", "Comment\x00" + marker},
		{"iTXt", "Description\x00\x00\x00\x00\x00" + marker},
		{"eXIf", "MM\x00\x2a\x00\x00\x00\x08" + marker},
	} {
		chunks = append(chunks, PNGChunk(c.typ, []byte(c.data))...)
	}
	return append(append(append([]byte(nil), raw[:ihdrEnd]...), chunks...), raw[ihdrEnd:]...)
}

// PNGChunk is one PNG chunk with its length and checksum.
func PNGChunk(typ string, data []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	out = append(out, typ...)
	out = append(out, data...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(append([]byte(typ), data...)))
}

// exifSegment is a JPEG APP1 segment with an EXIF directory holding the
// orientation and a GPS directory whose area information is the marker.
func exifSegment(marker string, orientation uint16) []byte {
	le := binary.LittleEndian
	tiff := []byte("II\x2a\x00\x08\x00\x00\x00")
	tiff = le.AppendUint16(tiff, 2) // two entries
	// Orientation, SHORT, one value.
	tiff = le.AppendUint16(tiff, 0x0112)
	tiff = le.AppendUint16(tiff, 3)
	tiff = le.AppendUint32(tiff, 1)
	tiff = le.AppendUint16(tiff, orientation)
	tiff = le.AppendUint16(tiff, 0)
	// GPS directory pointer, LONG, to offset 38.
	tiff = le.AppendUint16(tiff, 0x8825)
	tiff = le.AppendUint16(tiff, 4)
	tiff = le.AppendUint32(tiff, 1)
	tiff = le.AppendUint32(tiff, 38)
	tiff = le.AppendUint32(tiff, 0) // no next directory
	// GPS directory: one entry, GPSAreaInformation (UNDEFINED) at 56.
	tiff = le.AppendUint16(tiff, 1)
	tiff = le.AppendUint16(tiff, 0x001c)
	tiff = le.AppendUint16(tiff, 7)
	tiff = le.AppendUint32(tiff, uint32(len(marker)))
	tiff = le.AppendUint32(tiff, 56)
	tiff = le.AppendUint32(tiff, 0)
	tiff = append(tiff, marker...)
	body := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xff, 0xe1}
	seg = binary.BigEndian.AppendUint16(seg, uint16(len(body)+2))
	return append(seg, body...)
}

// JPEGWithGPS is a JPEG 8 pixels wide and 4 high whose left half is red
// and right half blue, stored with the EXIF orientation given (1 for
// upright), a GPS directory and a comment segment holding the marker.
func JPEGWithGPS(marker string, orientation uint16) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 8, 4))
	for y := 0; y < 4; y++ {
		for x := 0; x < 8; x++ {
			c := color.RGBA{B: 255, A: 255}
			if x < 4 {
				c = color.RGBA{R: 255, A: 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		panic(err)
	}
	raw := b.Bytes()
	com := []byte{0xff, 0xfe}
	com = binary.BigEndian.AppendUint16(com, uint16(len(marker)+2))
	com = append(com, marker...)
	out := append([]byte{0xff, 0xd8}, exifSegment(marker, orientation)...)
	out = append(out, com...)
	return append(out, raw[2:]...)
}

// WebP is a lossless WebP of one colour, w×h pixels; with a marker, it
// has an extended header announcing the EXIF and XMP chunks that hold it.
func WebP(w, h int, marker string) []byte {
	bits := uint32(w-1) | uint32(h-1)<<14
	// No transform, no colour cache, and five codes of one symbol each.
	vp8l := []byte{0x2f, byte(bits), byte(bits >> 8), byte(bits >> 16), byte(bits >> 24), 0x88, 0x88, 0x08}
	chunk := func(fourCC string, data []byte) []byte {
		out := binary.LittleEndian.AppendUint32([]byte(fourCC), uint32(len(data)))
		out = append(out, data...)
		if len(data)%2 == 1 {
			out = append(out, 0)
		}
		return out
	}
	body := []byte("WEBP")
	if marker != "" {
		x := make([]byte, 10)
		x[0] = 1<<3 | 1<<2
		x[4], x[5], x[6] = byte(w-1), byte((w-1)>>8), byte((w-1)>>16)
		x[7], x[8], x[9] = byte(h-1), byte((h-1)>>8), byte((h-1)>>16)
		body = append(body, chunk("VP8X", x)...)
	}
	body = append(body, chunk("VP8L", vp8l)...)
	if marker != "" {
		body = append(body, chunk("EXIF", []byte("II*\x00"+marker))...)
		body = append(body, chunk("XMP ", []byte("<x:xmpmeta>"+marker+"</x:xmpmeta>"))...)
	}
	return append(binary.LittleEndian.AppendUint32([]byte("RIFF"), uint32(len(body))), body...)
}
