"""The ATmega (AVR, MUL/MULS/MULSU) assembly of the integer header's kernels, as instruction lists.

tinyrnn/export/c_int.py pastes them into its C templates (``_asm`` makes
an ``__asm__`` statement of a list); each list's comment says what it
computes and in which registers. The arithmetic is the emulator's
(tinyrnn/core/quant.py) to the bit: tests/test_quant_row_kernels.py,
tests/test_quant_gated_rows.py and the target tests run them on the
ATmega328P under simavr.
"""

import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List


# NAME_tanh_q12 on the ATmega (see its C): a = |p| capped at 32767 (NEG of the 16-bit pair; -32768 -> 0x7FFF),
# k = a >> 7 and f = a & 127 by a shift through C, the two table entries by LPM, q = ((t1 - t0) f + 64) >> 7
# as (P >> 7) + bit 6 of P from two MULs (P < 2^17), t = t0 + q, negated for p < 0.
_AVR_TANH = [
    "movw %A[a], %A[p]", "sbrs %B[p], 7", "rjmp 1f", "neg %B[a]", "neg %A[a]", "sbc %B[a], __zero_reg__",
    "sbrc %B[a], 7", "com %A[a]", "sbrc %B[a], 7", "dec %B[a]",
    "1:", "mov %[f], %A[a]", "lsl %[f]", "mov %[k], %B[a]", "rol %[k]", "lsr %[f]",
    "add %A[z], %[k]", "adc %B[z], __zero_reg__", "add %A[z], %[k]", "adc %B[z], __zero_reg__",
    "lpm %A[t], Z+", "lpm %B[t], Z+", "lpm %A[d], Z+", "lpm %B[d], Z", "sub %A[d], %A[t]", "sbc %B[d], %B[t]",
    "clr %[x]", "mul %A[d], %[f]", "movw %A[a], r0", "mul %B[d], %[f]", "add %B[a], r0", "adc %[x], r1", "clr __zero_reg__",
    "lsl %A[a]", "rol %B[a]", "rol %[x]", "lsl %A[a]", "adc %B[a], __zero_reg__", "adc %[x], __zero_reg__",
    "add %A[t], %B[a]", "adc %B[t], %[x]",
    "sbrs %B[p], 7", "rjmp 2f", "neg %B[t]", "neg %A[t]", "sbc %B[t], __zero_reg__", "2:",
]
# NAME_mul_q15 on the ATmega (see its comment): [y : y1] = bytes 3, 2, 1 of a b + 2^14
_AVR_MULQ15 = [
    "clr %[z]", "mul %A[a], %A[b]", "mov %[y1], r1", "muls %B[a], %B[b]", "movw %A[y], r0",
    "mulsu %B[a], %A[b]", "sbc %B[y], %[z]", "add %[y1], r0", "adc %A[y], r1", "adc %B[y], %[z]",
    "mulsu %B[b], %A[a]", "sbc %B[y], %[z]", "add %[y1], r0", "adc %A[y], r1", "adc %B[y], %[z]", "clr __zero_reg__",
    "subi %[y1], 0xC0", "sbci %A[y], 0xFF", "sbci %B[y], 0xFF", "lsl %[y1]", "rol %A[y]", "rol %B[y]",
]
# NAME_requant_ on the ATmega (see its comment)
_AVR_SHIFT = ["asr %D[d]", "ror %C[d]", "ror %B[d]", "ror %A[d]"]  # d >>= 1
_AVR_REQUANT = (
    # d >>= 16 and d >>= 8 in byte moves (the new top bytes: the sign), then bits 2, 1, 0 of r
    ["sbrs %[r], 4", "rjmp 1f", "movw %A[d], %C[d]", "clr %C[d]", "sbrc %B[d], 7", "com %C[d]", "mov %D[d], %C[d]",
     "1:", "sbrs %[r], 3", "rjmp 2f", "mov %A[d], %B[d]", "mov %B[d], %C[d]", "mov %C[d], %D[d]", "lsl %D[d]", "sbc %D[d], %D[d]",
     "2:", "sbrs %[r], 2", "rjmp 3f"] + _AVR_SHIFT * 4 + ["3:", "sbrs %[r], 1", "rjmp 4f"] + _AVR_SHIFT * 2
    + ["4:", "sbrs %[r], 0", "rjmp 5f"] + _AVR_SHIFT
    # t = d + b; outside int16 (bytes C, D are not the sign of byte B): 0x7FFF or 0x8000 by the sign
    + ["5:", "mov %[x], %B[b]", "lsl %[x]", "sbc %[x], %[x]", "add %A[d], %A[b]", "adc %B[d], %B[b]", "adc %C[d], %[x]", "adc %D[d], %[x]",
       "mov %[x], %B[d]", "lsl %[x]", "sbc %[x], %[x]", "cp %C[d], %[x]", "cpc %D[d], %[x]", "breq 6f",
       "lsl %D[d]", "sbc %A[d], %A[d]", "mov %B[d], %A[d]", "com %A[d]", "lsr %B[d]", "com %B[d]", "sbrc %A[d], 7", "lsr %B[d]", "6:"]
    # y = t m + 2^13 in y (bits 8-15; bits 0-7 matter for nothing) and d's top two bytes (t is in its low two):
    # unsigned 16x16 from four MULs, less m 2^16 if t < 0 and t 2^16 if m < 0
    + ["clr %[x]", "mul %B[d], %B[m]", "movw %C[d], r0", "mul %A[d], %A[m]", "mov %[y], r1",
       "mul %B[d], %A[m]", "add %[y], r0", "adc %C[d], r1", "adc %D[d], %[x]",
       "mul %A[d], %B[m]", "add %[y], r0", "adc %C[d], r1", "adc %D[d], %[x]", "clr __zero_reg__",
       "sbrs %B[d], 7", "rjmp 7f", "sub %C[d], %A[m]", "sbc %D[d], %B[m]", "7:",
       "sbrs %B[m], 7", "rjmp 8f", "sub %C[d], %A[d]", "sbc %D[d], %B[d]", "8:",
       "set", "bld %[x], 5", "add %[y], %[x]", "clr %[x]", "adc %C[d], %[x]", "adc %D[d], %[x]"]
    # y >> 14 is y << 2 >> 16; V after a ROL: the bit shifted out differs from the new top bit
    + ["lsl %[y]", "rol %C[d]", "rol %D[d]", "brvs 9f", "lsl %[y]", "rol %C[d]", "rol %D[d]", "brvc 10f",
       "9:", "sbc %C[d], %C[d]", "mov %D[d], %C[d]", "com %C[d]", "lsr %D[d]", "com %D[d]", "sbrc %C[d], 7", "lsr %D[d]", "10:"]
)


def _asm(lines: "List[str]", volatile: bool, indent: int) -> str:
    """The start of an __asm__ statement, one instruction a line (the operands follow in the template)."""
    pad = " " * indent
    return pad + "__asm__%s(\n" % (" __volatile__" if volatile else "") + "".join(pad + '    "%s\\n\\t"\n' % ins for ins in lines)


# One term of the AVR row sum (see NAME_dot_): the signed weight times the unsigned low byte of v
# (MULSU) and times the signed high byte (MULS). No sign extension: each 16-bit product gets its sign
# bit flipped (EOR with 0x80: + 2^15), and the carries go up with ADC of the same 0x80 register (+ 2^23
# and 2^31 per ADC), so a term adds w v + 2^15 + 2^24 (mod 2^32) to the 32-bit acc.
_AVR_TERM = [
    "lpm %[wj], Z+", "ld %[vb], X+", "mulsu %[wj], %[vb]", "eor r1, %[k80]",
    "add %A[acc], r0", "adc %B[acc], r1", "adc %C[acc], %[k80]", "adc %D[acc], %[k80]",
    "ld %[vb], X+", "muls %[wj], %[vb]", "eor r1, %[k80]", "add %B[acc], r0", "adc %C[acc], r1", "adc %D[acc], %[k80]",
]
# one term if k is odd, two if bit 1 of k is set, then k / 4 times four terms
_AVR_LOOP = (["ldi %[k80], 0x80", "clr %A[acc]", "clr %B[acc]", "movw %C[acc], %A[acc]", "sbrs %[k], 0", "rjmp 1f"] + _AVR_TERM
             + ["1:", "sbrs %[k], 1", "rjmp 2f"] + _AVR_TERM * 2 + ["2:", "lsr %[k]", "lsr %[k]", "breq 4f", "3:"] + _AVR_TERM * 4
             + ["dec %[k]", "brne 3b", "4:", "clr __zero_reg__"])
_ASM = _asm(_AVR_LOOP, True, 8)
# One term of the int16 row sum, (w v) >> 8 = hi8(wL vL) + wH vL + wL vH + 2^8 wH vH (exact: the dropped
# low byte is wL vL's), the signed products with their sign bit flipped and the carries added with the
# 0x80 register as above: a term adds (w v >> 8) + 3 2^15 + 2^25 (mod 2^32).
_AVR_TERM16 = [
    "lpm %A[wj], Z+", "lpm %B[wj], Z+", "ld %[vb], X+",
    "mul %A[wj], %[vb]", "add %A[acc], r1", "adc %B[acc], %[k80]", "adc %C[acc], %[k80]", "adc %D[acc], %[k80]",
    "mulsu %B[wj], %[vb]", "eor r1, %[k80]", "add %A[acc], r0", "adc %B[acc], r1", "adc %C[acc], %[k80]", "adc %D[acc], %[k80]",
    "ld %[vb], X+",
    "mulsu %[vb], %A[wj]", "eor r1, %[k80]", "add %A[acc], r0", "adc %B[acc], r1", "adc %C[acc], %[k80]", "adc %D[acc], %[k80]",
    "muls %B[wj], %[vb]", "eor r1, %[k80]", "add %B[acc], r0", "adc %C[acc], r1", "adc %D[acc], %[k80]",
]
# one term if k is odd, then k / 2 times two terms
_ASM16 = _asm(["ldi %[k80], 0x80", "clr %A[acc]", "clr %B[acc]", "movw %C[acc], %A[acc]", "sbrs %[k], 0", "rjmp 1f"] + _AVR_TERM16
              + ["1:", "lsr %[k]", "breq 4f", "3:"] + _AVR_TERM16 * 2 + ["dec %[k]", "brne 3b", "4:", "clr __zero_reg__"], True, 8)


# NAME_dotc_ on the ATmega, int8: one assembly block for any n (no chunks, no call for the offset):
# acc = d0 - n (2^15 + 2^24) mod 2^32, then the terms of _AVR_TERM (each adds w v + 2^15 + 2^24):
# n & 1 and n & 2 single terms, then n >> 2 times four terms, counted in a 16-bit pair (low byte by
# DEC/BRNE; the high byte by DEC/BRPL, n <= 32767). n (2^15 + 2^24) is [n_lo + (n >> 9) : n >> 1 : n << 7 : 0].
_AVR_DOTC = (
    ["mov %[vb], %A[n]", "mov %[k80], %B[n]", "clr %[wj]", "lsr %[k80]", "ror %[vb]", "ror %[wj]", "add %[k80], %A[n]",
     "sub %B[acc], %[wj]", "sbc %C[acc], %[vb]", "sbc %D[acc], %[k80]", "ldi %[k80], 0x80",
     "sbrs %A[n], 0", "rjmp 1f"] + _AVR_TERM + ["1:", "sbrs %A[n], 1", "rjmp 2f"] + _AVR_TERM * 2
    + ["2:", "lsr %B[n]", "ror %A[n]", "lsr %B[n]", "ror %A[n]", "mov %[wj], %A[n]", "or %[wj], %B[n]", "breq 4f",
       "tst %A[n]", "brne 3f", "dec %B[n]", "3:"] + _AVR_TERM * 4 + ["dec %A[n]", "brne 3b", "dec %B[n]", "brpl 3b",
       "4:", "clr __zero_reg__"]
)


# NAME_rowq_ on the ATmega, int8: _AVR_DOTC, then the row's record by LPM into registers the row sum
# no longer needs (b in n's pair, m in X, r in k80), then _AVR_REQUANT (its x, y: wj, vb): one call a row.
_AVR_ROWQ = (
    [ins.replace("[acc]", "[d]") for ins in _AVR_DOTC]
    + ["movw %A[w], %A[q]", "lpm %A[n], Z+", "lpm %B[n], Z+", "lpm %A[v], Z+", "lpm %B[v], Z+", "lpm %[k80], Z"]
    + [ins.replace("%[x]", "%[wj]").replace("%[y]", "%[vb]").replace("%[r]", "%[k80]").replace("[b]", "[n]").replace("[m]", "[v]")
       for ins in _AVR_REQUANT]
)


def _regs(lines: "List[str]", regs: "Dict[str, str]", label_shift: int = 0) -> "List[str]":
    """Assembly lines with named operands (%A[acc], %[wj] ...) bound to fixed registers, local labels shifted."""
    out = []
    for ins in lines:
        for k, v in regs.items():
            ins = ins.replace(k, v)
        if label_shift:
            ins = re.sub(r"\b(\d+)([fb:])", lambda g: "%d%s" % (int(g.group(1)) + label_shift, g.group(2)), ins)
        out.append(ins)
    return out


# NAME_trows_ on the ATmega: all of NAME_rows_ for a one-hot column (or no input part) and a hidden
# part of nh <= 1020 weights (int16: 510), one naked function in fixed registers (avr-gcc's argument registers: w r24,
# q r22, kx r20, n r18, token r16, nx r14, h r12, nh r10, out r8). Per row: acc = (w[token] << 15) << kx
# (or 0), less nh (2^15 + 2^24), plus the terms of _AVR_TERM (n & 3 singles, then quads), then the
# record and _AVR_REQUANT; Z ends at the next row. w r2, q r4, kx r6, rows left r16, token Y (r28);
# acc r22-r25, wj r18, vb r19, k80 r21, quad count r20; requant: b r20, m r26, r r19, x r18, y r30.
_TROWS_DOT = {"%A[acc]": "r22", "%B[acc]": "r23", "%C[acc]": "r24", "%D[acc]": "r25", "%[wj]": "r18", "%[vb]": "r19", "%[k80]": "r21"}
_TROWS_REQ = {"%A[d]": "r22", "%B[d]": "r23", "%C[d]": "r24", "%D[d]": "r25", "%A[b]": "r20", "%B[b]": "r21",
              "%A[m]": "r26", "%B[m]": "r27", "%[r]": "r19", "%[x]": "r18", "%[y]": "r30"}
_SAVED = ["r%d" % k for k in range(2, 18)] + ["r28", "r29"]


def _avr_trows(width: str) -> "List[str]":
    """NAME_trows_'s assembly (see above). int16: token and nx in bytes (doubled at entry), the column
    w << 7, the terms of _AVR_TERM16 (wj r18:r19, vb r20, k80 r21; n & 1 single, then pairs counted in
    r28, token's low byte, saved on the stack over the row sum), each adding (w v >> 8) + 3 2^15 + 2^25."""
    if width == "int8":
        col = ["lpm r24, Z", "asr r24", "ror r23"]  # w << 15: [sign : w >> 1 : w << 7 : 0]
        offset = ["mov r19, r10", "mov r21, r11", "clr r18", "lsr r21", "ror r19", "ror r18", "add r21, r10"]
        terms = (["sbrs r10, 0", "rjmp 4f"] + _regs(_AVR_TERM, _TROWS_DOT) + ["4:", "sbrs r10, 1", "rjmp 5f"] + _regs(_AVR_TERM * 2, _TROWS_DOT)
                 + ["5:", "mov r20, r10", "mov r0, r11", "lsr r0", "ror r20", "lsr r0", "ror r20", "tst r20", "breq 7f",
                    "6:"] + _regs(_AVR_TERM * 4, _TROWS_DOT) + ["dec r20", "brne 6b", "7:"])
        entry = []  # type: List[str]
    else:
        dot16 = dict(_TROWS_DOT, **{"%A[wj]": "r18", "%B[wj]": "r19", "%[vb]": "r20"})
        col = ["lpm r23, Z+", "lpm r24, Z", "asr r24", "ror r23", "ror r22"]  # w << 7: [sign : w >> 1 : w << 7]
        # n (3 2^15 + 2^25) = n << 15, + n << 16, + n_lo << 25
        offset = ["mov r19, r10", "mov r21, r11", "clr r18", "lsr r21", "ror r19", "ror r18", "add r19, r10", "adc r21, r11",
                  "mov r20, r10", "lsl r20", "add r21, r20"]
        terms = (["push r28", "sbrs r10, 0", "rjmp 4f"] + _regs(_AVR_TERM16, dot16)
                 + ["4:", "mov r28, r10", "mov r0, r11", "lsr r0", "ror r28", "tst r28", "breq 7f",
                    "6:"] + _regs(_AVR_TERM16 * 2, dot16) + ["dec r28", "brne 6b", "7:", "pop r28"])
        entry = ["lsl r28", "rol r29", "lsl r14", "rol r15"]
    return (
        ["push %s" % r for r in _SAVED]
        + ["movw r28, r16", "movw r16, r18", "movw r2, r24", "movw r4, r22", "movw r6, r20"] + entry
        + ["cp r16, __zero_reg__", "cpc r17, __zero_reg__", "brne 1f", "rjmp 8f",
           "1:", "clr r22", "clr r23", "movw r24, r22", "cp r14, __zero_reg__", "cpc r15, __zero_reg__", "breq 3f",
           "movw r30, r2", "add r30, r28", "adc r31, r29"] + col + ["mov r25, r24", "lsl r25", "sbc r25, r25",
           "cp r6, __zero_reg__", "cpc r7, __zero_reg__", "breq 3f", "movw r30, r6", "lpm r19, Z+", "movw r6, r30", "tst r19", "breq 3f",
           "2:", "lsl r22", "rol r23", "rol r24", "rol r25", "dec r19", "brne 2b",
           "3:"] + offset + ["sub r23, r18", "sbc r24, r19", "sbc r25, r21",
           "movw r30, r2", "add r30, r14", "adc r31, r15", "movw r26, r12", "ldi r21, 0x80"]
        + terms
        + ["clr __zero_reg__", "movw r2, r30",
           "movw r30, r4", "lpm r20, Z+", "lpm r21, Z+", "lpm r26, Z+", "lpm r27, Z+", "lpm r19, Z+", "movw r4, r30"]
        + _regs(_AVR_REQUANT, _TROWS_REQ, 10)
        + ["movw r30, r8", "st Z+, r24", "st Z+, r25", "movw r8, r30",
           "subi r16, 1", "sbci r17, 0", "breq 8f", "rjmp 1b",
           "8:"] + ["pop %s" % r for r in reversed(_SAVED)] + ["ret"]
    )
