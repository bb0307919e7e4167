package certgen

// SealPNG returns the seal picture (a transparent PNG) that the renderer
// stamps for authority: the configured Options.SealPNG, or the generated
// round seal. Signatures embed the same picture in their appearance and in
// the OFD electronic seal, so what is printed and what is signed agree.
func (r *Renderer) SealPNG(authority string) ([]byte, error) {
	se, err := r.sealPicture(authority)
	if err != nil {
		return nil, err
	}
	return se.png, nil
}
