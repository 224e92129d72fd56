"""Read the machine an ELF file was built for, from its first 20 bytes.

ELF header layout (System V gABI, https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.eheader.html):
bytes 0-3 magic ``\\x7fELF``; byte 4 EI_CLASS (1 = 32-bit, 2 = 64-bit); byte 5 EI_DATA
(1 = little-endian, 2 = big-endian); bytes 16-17 e_type; bytes 18-19 e_machine, in EI_DATA's byte order.
"""

from __future__ import annotations

from dataclasses import dataclass

ELF_MAGIC = b"\x7fELF"
HEADER_BYTES = 20

ELFCLASS64 = 2
ELFDATA2LSB = 1
EM_386 = 3
EM_ARM = 40
EM_X86_64 = 62
EM_AARCH64 = 183

MACHINE_NAMES = {
    EM_386: "i386",
    EM_ARM: "arm (32-bit)",
    EM_X86_64: "x86_64",
    EM_AARCH64: "aarch64",
    20: "ppc",
    21: "ppc64",
    22: "s390x",
}


@dataclass(frozen=True)
class ElfHeader:
    """The identifying part of an ELF header.

    Attributes:
        elf_class: 1 for 32-bit, 2 for 64-bit.
        data: 1 for little-endian, 2 for big-endian.
        machine: ``e_machine`` (62 x86_64, 183 aarch64, ...).
    """

    elf_class: int
    data: int
    machine: int

    def describe(self) -> str:
        """Human-readable machine, e.g. ``aarch64 (e_machine 183, 64-bit little-endian)``."""
        bits = {1: "32-bit", 2: "64-bit"}.get(self.elf_class, f"class {self.elf_class}")
        order = {1: "little-endian", 2: "big-endian"}.get(self.data, f"data {self.data}")
        name = MACHINE_NAMES.get(self.machine, "unknown")
        return f"{name} (e_machine {self.machine}, {bits} {order})"


def is_elf(head: bytes) -> bool:
    """Whether ``head`` (a file's first bytes) starts with the ELF magic."""
    return head[:4] == ELF_MAGIC


def parse_elf_header(head: bytes) -> ElfHeader | None:
    """Parse the first 20 bytes of a file.

    Returns:
        The header, or None when ``head`` does not start with the ELF magic.

    Raises:
        ValueError: the magic is there but fewer than 20 bytes follow (a truncated ELF file).
    """
    if not is_elf(head):
        return None
    if len(head) < HEADER_BYTES:
        raise ValueError(f"truncated ELF header ({len(head)} bytes, need {HEADER_BYTES})")
    elf_class, data = head[4], head[5]
    order = "big" if data == 2 else "little"
    machine = int.from_bytes(head[18:20], order)
    return ElfHeader(elf_class=elf_class, data=data, machine=machine)


def matches(header: ElfHeader, elf_machine: int) -> bool:
    """Whether ``header`` is a 64-bit little-endian ELF for ``elf_machine`` (what Lambda runs)."""
    return header.elf_class == ELFCLASS64 and header.data == ELFDATA2LSB and header.machine == elf_machine
