package picture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/webp"
)

// GIF is the media type of GIF pictures, which meeting files may be.
const GIF = "image/gif"

// MaxPixels bounds the pixels of a picture Clean decodes, so that a small
// file cannot make the server allocate gigabytes: 50 megapixels is more
// than a phone camera's full resolution.
const MaxPixels = 50_000_000

// JPEGQuality is the quality JPEG pictures are written again at: high
// enough that the new copy cannot be told from the upload at a glance.
const JPEGQuality = 90

var (
	// ErrTooManyPixels is a picture of more than MaxPixels.
	ErrTooManyPixels = errors.New("picture: more than 50 megapixels")
	// ErrUndecodable is a file that starts like a picture of its type but
	// cannot be read as one to the end.
	ErrUndecodable = errors.New("picture: cannot be decoded")
)

// Clean returns a copy of a picture that holds its pixels and nothing
// else: no EXIF (where a camera records the place and time a photo was
// taken and the device that took it), no XMP, no comments or text chunks,
// no colour profile. What else a file carries is whatever the software
// that wrote it put there, often without its author knowing, and a
// picture shared in a meeting reaches everyone in it.
//
// PNG and JPEG pictures are decoded whole and encoded again with the
// standard library: PNG without loss, JPEG at JPEGQuality, after turning
// the pixels the way the EXIF orientation says, since the orientation
// goes with the rest of EXIF. The colour profile goes too: browsers take
// a picture without one for sRGB, which shifts the colours of
// wide-gamut photos a little. WebP and GIF have no encoder in the
// standard library, and re-encoding a WebP loses quality, so their
// containers are rewritten instead: a WebP keeps only its image chunks
// (its EXIF orientation goes with the rest, which leaves a WebP that
// relied on it as stored: cameras write JPEG), a GIF only its
// images, palettes, frame timing and loop count. Both are then decoded
// (a GIF's first frame, a WebP unless it is animated) to check that they
// are whole.
//
// The media type is read from the bytes, as Inspect does. A file that is
// not a picture of an accepted type gives ErrUnsupported; one that starts
// like a picture but cannot be read gives ErrUndecodable; one too large
// to decode, ErrTooManyPixels.
func Clean(b []byte) (contentType string, out []byte, err error) {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		out, err = cleanPNG(b)
		return PNG, out, err
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		out, err = cleanJPEG(b)
		return JPEG, out, err
	case len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		out, err = cleanWebP(b)
		return WebP, out, err
	case bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a")):
		out, err = cleanGIF(b)
		return GIF, out, err
	}
	return "", nil, ErrUnsupported
}

// checkSize refuses a picture whose header is unreadable or promises too
// many pixels, before anything is decoded.
func checkSize(cfg image.Config, err error) error {
	if err != nil || cfg.Width < 1 || cfg.Height < 1 {
		return ErrUndecodable
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return ErrTooManyPixels
	}
	return nil
}

func cleanPNG(b []byte) ([]byte, error) {
	if err := checkSize(png.DecodeConfig(bytes.NewReader(b))); err != nil {
		return nil, err
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, ErrUndecodable
	}
	var out bytes.Buffer
	if err := png.Encode(&out, img); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func cleanJPEG(b []byte) ([]byte, error) {
	if err := checkSize(jpeg.DecodeConfig(bytes.NewReader(b))); err != nil {
		return nil, err
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, ErrUndecodable
	}
	img = orient(img, jpegOrientation(b))
	var out bytes.Buffer
	if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: JPEGQuality}); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// jpegOrientation reads the EXIF orientation (1 to 8) of a JPEG file: 1,
// as stored, when there is none or it cannot be read.
func jpegOrientation(b []byte) int {
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xff {
			return 1
		}
		marker := b[i+1]
		if marker == 0xff { // fill byte
			i++
			continue
		}
		if marker == 0xda || marker == 0xd9 { // image data or its end: no EXIF before it
			return 1
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return 1
		}
		seg := b[i+4 : i+2+n]
		if marker == 0xe1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return exifOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

// exifOrientation reads tag 0x0112 of the first image directory of a
// TIFF structure, the body of an EXIF segment.
func exifOrientation(tiff []byte) int {
	if len(tiff) < 8 {
		return 1
	}
	var order binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return 1
	}
	ifd := int64(order.Uint32(tiff[4:]))
	if ifd < 8 || ifd+2 > int64(len(tiff)) {
		return 1
	}
	count := int64(order.Uint16(tiff[ifd:]))
	for k := int64(0); k < count; k++ {
		e := ifd + 2 + 12*k
		if e+12 > int64(len(tiff)) {
			return 1
		}
		// Tag 0x0112, of type SHORT (3), holds its value in place.
		if order.Uint16(tiff[e:]) == 0x0112 && order.Uint16(tiff[e+2:]) == 3 {
			if v := int(order.Uint16(tiff[e+8:])); v >= 1 && v <= 8 {
				return v
			}
			return 1
		}
	}
	return 1
}

// orient turns and mirrors img so that it shows upright without its EXIF
// orientation o.
func orient(img image.Image, o int) image.Image {
	if o <= 1 || o > 8 {
		return img
	}
	// Work on plain pixel rows: grey stays grey, anything else becomes
	// RGBA (draw has fast paths from the decoder's YCbCr).
	var (
		pix         []uint8
		stride, bpp int
	)
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	if g, ok := img.(*image.Gray); ok {
		pix, stride, bpp = g.Pix, g.Stride, 1
	} else {
		rgba := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(rgba, rgba.Bounds(), img, r.Min, draw.Src)
		pix, stride, bpp = rgba.Pix, rgba.Stride, 4
	}
	dw, dh := w, h
	if o >= 5 { // the four orientations that swap width and height
		dw, dh = h, w
	}
	var (
		dst       image.Image
		dpix      []uint8
		dstStride int
	)
	if bpp == 1 {
		g := image.NewGray(image.Rect(0, 0, dw, dh))
		dst, dpix, dstStride = g, g.Pix, g.Stride
	} else {
		c := image.NewRGBA(image.Rect(0, 0, dw, dh))
		dst, dpix, dstStride = c, c.Pix, c.Stride
	}
	for y := 0; y < dh; y++ {
		for x := 0; x < dw; x++ {
			var sx, sy int
			switch o {
			case 2: // mirrored
				sx, sy = w-1-x, y
			case 3: // upside down
				sx, sy = w-1-x, h-1-y
			case 4: // mirrored upside down
				sx, sy = x, h-1-y
			case 5: // mirrored along the diagonal
				sx, sy = y, x
			case 6: // turned a quarter anticlockwise: turn it back clockwise
				sx, sy = y, h-1-x
			case 7: // mirrored along the other diagonal
				sx, sy = w-1-y, h-1-x
			case 8: // turned a quarter clockwise: turn it back
				sx, sy = w-1-y, x
			}
			copy(dpix[y*dstStride+x*bpp:y*dstStride+x*bpp+bpp], pix[sy*stride+sx*bpp:])
		}
	}
	return dst
}

// The RIFF chunks a cleaned WebP keeps: the extended header, animation
// and frames, and the image data with its alpha. Frames (ANMF) hold only
// image chunks of their own.
var webpKept = map[string]bool{"VP8X": true, "VP8 ": true, "VP8L": true, "ALPH": true, "ANIM": true, "ANMF": true}

// The flags of the VP8X header that announce chunks Clean removes.
const webpMetadataFlags = 1<<5 | 1<<3 | 1<<2 // ICC profile, EXIF, XMP

func cleanWebP(b []byte) ([]byte, error) {
	// The RIFF size covers the whole file (see Inspect).
	if len(b) < 20 || int64(binary.LittleEndian.Uint32(b[4:8]))+8 != int64(len(b)) {
		return nil, ErrUndecodable
	}
	if err := checkSize(webp.DecodeConfig(bytes.NewReader(b))); err != nil {
		return nil, err
	}
	out := append([]byte(nil), b[:12]...)
	animated := false
	for i := 12; i < len(b); {
		if i+8 > len(b) {
			return nil, ErrUndecodable
		}
		fourCC := string(b[i : i+4])
		n := int(binary.LittleEndian.Uint32(b[i+4:]))
		end := i + 8 + n + n%2 // chunks are padded to an even length
		if n < 0 || end > len(b) || end < i {
			return nil, ErrUndecodable
		}
		if webpKept[fourCC] {
			chunk := append([]byte(nil), b[i:end]...)
			if fourCC == "VP8X" && n >= 1 {
				chunk[8] &^= webpMetadataFlags
			}
			animated = animated || fourCC == "ANIM"
			out = append(out, chunk...)
		}
		i = end
	}
	binary.LittleEndian.PutUint32(out[4:8], uint32(len(out)-8))
	if !animated {
		// The decoder reads still pictures only; an animation's frames
		// are checked by the walk above.
		if _, err := webp.Decode(bytes.NewReader(out)); err != nil {
			return nil, ErrUndecodable
		}
	}
	return out, nil
}

// cleanGIF rewrites a GIF with its header, palettes, images and graphic
// control blocks (frame timing and transparency) and the loop count,
// leaving out comments, plain-text blocks and other applications' data
// (XMP, colour profiles). The image data is copied as it is.
func cleanGIF(b []byte) ([]byte, error) {
	if err := checkSize(gif.DecodeConfig(bytes.NewReader(b))); err != nil {
		return nil, err
	}
	if len(b) < 13 {
		return nil, ErrUndecodable
	}
	i := 13
	if b[10]&0x80 != 0 {
		i += 3 << ((b[10] & 7) + 1)
	}
	if i > len(b) {
		return nil, ErrUndecodable
	}
	out := append([]byte(nil), b[:i]...)
	// subBlocks returns the end of the data sub-blocks starting at j.
	subBlocks := func(j int) (int, bool) {
		for j < len(b) {
			n := int(b[j])
			j++
			if n == 0 {
				return j, true
			}
			j += n
		}
		return 0, false
	}
	for {
		if i >= len(b) {
			return nil, ErrUndecodable
		}
		switch b[i] {
		case 0x3b: // trailer; whatever follows it is dropped
			out = append(out, 0x3b)
			if _, err := gif.Decode(bytes.NewReader(out)); err != nil {
				return nil, ErrUndecodable
			}
			return out, nil
		case 0x2c: // image descriptor, its palette and its data
			j := i + 10
			if j > len(b) {
				return nil, ErrUndecodable
			}
			if b[i+9]&0x80 != 0 {
				j += 3 << ((b[i+9] & 7) + 1)
			}
			j++ // the LZW minimum code size
			end, ok := subBlocks(j)
			if !ok || j > len(b) {
				return nil, ErrUndecodable
			}
			out = append(out, b[i:end]...)
			i = end
		case 0x21: // extension
			if i+2 > len(b) {
				return nil, ErrUndecodable
			}
			end, ok := subBlocks(i + 2)
			if !ok {
				return nil, ErrUndecodable
			}
			if keepGIFExtension(b[i+1], b[i+2:end]) {
				out = append(out, b[i:end]...)
			}
			i = end
		default:
			return nil, ErrUndecodable
		}
	}
}

// keepGIFExtension decides whether an extension block stays: graphic
// control (timing, transparency) and the application blocks that say how
// often an animation loops.
func keepGIFExtension(label byte, body []byte) bool {
	switch label {
	case 0xf9:
		return true
	case 0xff:
		// The first sub-block is the application's name and code.
		return len(body) >= 12 && body[0] == 11 && (string(body[1:12]) == "NETSCAPE2.0" || string(body[1:12]) == "ANIMEXTS1.0")
	}
	return false
}
