package live

import "fmt"

// Ring geometry. TPACKET_V3 packs frames of any length into blocks, so the
// frame size only fixes tp_frame_nr for the kernel's bookkeeping; what
// matters is the block size (the largest frame a block can hold, and the
// unit the kernel hands over) and the number of blocks (how much burst the
// ring absorbs while the reader is busy).
const (
	// defaultRingMB is the ring size per socket unless told otherwise:
	// about a second of a saturated 1 Gbit/s link, enough to ride out the
	// pauses of a busy consumer (stalls of ~0.3 s were measured).
	defaultRingMB = 128
	// maxRingMB keeps a typo from pinning gigabytes of kernel memory.
	maxRingMB = 4096
	// blockSize is used for rings of 8 MiB and more: large enough for any
	// frame (64 KiB with GRO) and few enough blocks for cheap retiring.
	blockSize = 1 << 20
	// minBlocks keeps a ring from being a single block, which the kernel
	// could not fill while the reader holds it.
	minBlocks = 8
	// frameSize is one MTU-sized frame plus the TPACKET_V3 header,
	// aligned to TPACKET_ALIGNMENT (16).
	frameSize = 2048
)

// ringGeometry is what the kernel's tpacket_req3 is made of.
type ringGeometry struct {
	BlockSize, FrameSize, NumBlocks int
}

// Bytes is the ring's total size.
func (g ringGeometry) Bytes() int { return g.BlockSize * g.NumBlocks }

// geometry derives the ring for a size in MiB: 1 MiB blocks when the ring
// holds at least minBlocks of them, else minBlocks smaller blocks (a power
// of two, at least a page and a frame).
func geometry(ringMB, pageSize int) (ringGeometry, error) {
	if ringMB <= 0 || ringMB > maxRingMB {
		return ringGeometry{}, fmt.Errorf("ring size %d MiB out of range 1..%d", ringMB, maxRingMB)
	}
	total := ringMB << 20
	bs := blockSize
	for total/bs < minBlocks && bs > pageSize && bs > frameSize {
		bs /= 2
	}
	return ringGeometry{BlockSize: bs, FrameSize: frameSize, NumBlocks: total / bs}, nil
}
