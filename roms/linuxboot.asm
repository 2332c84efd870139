; linuxboot.asm — the option ROM for direct Linux boot (-kernel). SeaBIOS loads it from
; fw_cfg file "genroms/linuxboot.bin" and, through the PnP header's Bootstrap Entry
; Vector, lists it as a boot device ("Booting from ROM..."). The BEV reads the setup
; code, kernel, command line and initrd from fw_cfg with the DMA interface straight
; to their physical addresses, then enters the kernel's real-mode setup code (or, for
; a multiboot kernel, its 32-bit entry point in flat protected mode).
; The image is embedded in dbt86 as bios/linuxboot_rom.h (regenerate it with the
; command at the top of that file); bios/linuxboot.c fixes the checksum byte.

bits 16
org 0

FW_CFG_PORT_SEL    equ 0x510
FW_CFG_PORT_DATA   equ 0x511
FW_CFG_PORT_DMA_HI equ 0x514
FW_CFG_PORT_DMA_LO equ 0x518

FW_CFG_KERNEL_ADDR  equ 0x07
FW_CFG_KERNEL_SIZE  equ 0x08
FW_CFG_INITRD_ADDR  equ 0x0a
FW_CFG_INITRD_SIZE  equ 0x0b
FW_CFG_KERNEL_ENTRY equ 0x10
FW_CFG_KERNEL_DATA  equ 0x11
FW_CFG_INITRD_DATA  equ 0x12
FW_CFG_CMDLINE_ADDR equ 0x13
FW_CFG_CMDLINE_SIZE equ 0x14
FW_CFG_CMDLINE_DATA equ 0x15
FW_CFG_SETUP_ADDR   equ 0x16
FW_CFG_SETUP_SIZE   equ 0x17
FW_CFG_SETUP_DATA   equ 0x18

DMA_CTL_ERROR  equ 0x01
DMA_CTL_READ   equ 0x02
DMA_CTL_SELECT equ 0x08

header:
    db 0x55, 0xaa
    db 1                    ; size in 512-byte blocks
    jmp init                ; offset 3: initialisation entry
    times 0x18 - ($ - $$) db 0
    dw 0                    ; no PCI data structure
    dw pnp                  ; offset 0x1a: PnP expansion header

pnp:                        ; PnP BIOS spec option ROM expansion header
    db '$PnP'
    db 1                    ; structure revision
    db 2                    ; length in 16-byte units
    dw 0                    ; next header: none
    db 0                    ; reserved
    db 0                    ; header checksum (SeaBIOS does not check it)
    dd 0                    ; device identifier
    dw manufacturer
    dw product
    db 0, 0, 0              ; device type code
    db 0                    ; device indicators
    dw 0                    ; boot connection vector
    dw 0                    ; disconnect vector
    dw bev                  ; bootstrap entry vector
    dw 0                    ; reserved
    dw 0                    ; static resource information vector

manufacturer: db 'dbt86', 0
product:      db 'Linux loader', 0

init:
    retf                    ; nothing to set up before boot

; ---- fw_cfg helpers ----

; fw_read32: ax = key -> eax = the item's first 4 bytes (little-endian)
fw_read32:
    push cx
    push dx
    mov dx, FW_CFG_PORT_SEL
    out dx, ax
    mov dx, FW_CFG_PORT_DATA
    mov cx, 4
.byte:
    in al, dx
    ror eax, 8              ; after four bytes the first one is in al
    loop .byte
    pop dx
    pop cx
    ret

; fw_dma: ax = key, esi = physical destination, ecx = length. Reads the whole item
; with a DMA descriptor built on the stack (the ROM itself is read-only by now).
fw_dma:
    jecxz .done
    push bp
    push ebx
    push edx
    sub sp, 16
    mov bp, sp
    movzx eax, ax
    shl eax, 16
    or eax, DMA_CTL_SELECT | DMA_CTL_READ
    bswap eax
    mov [bp], eax           ; control (big-endian)
    mov eax, ecx
    bswap eax
    mov [bp + 4], eax       ; length
    mov dword [bp + 8], 0   ; address, high half
    mov eax, esi
    bswap eax
    mov [bp + 12], eax      ; address, low half
    xor eax, eax
    mov dx, FW_CFG_PORT_DMA_HI
    out dx, eax
    mov ax, ss              ; the descriptor's physical address: ss * 16 + bp
    movzx eax, ax
    shl eax, 4
    movzx ebx, bp
    add eax, ebx
    bswap eax
    mov dx, FW_CFG_PORT_DMA_LO
    out dx, eax             ; writing the low half starts the transfer
.wait:
    mov eax, [bp]
    bswap eax
    and eax, ~DMA_CTL_ERROR
    jnz .wait               ; the device clears the control word when done
    add sp, 16
    pop edx
    pop ebx
    pop bp
.done:
    ret

; load: ax = ADDR key; the SIZE and DATA keys follow by the offsets in bx
; (bl: size key, bh: data key)
load:
    call fw_read32
    mov esi, eax
    movzx ax, bl
    call fw_read32
    mov ecx, eax
    movzx ax, bh
    call fw_dma
    ret

; ---- boot ----

bev:
    cli
    cld
    mov ax, FW_CFG_SETUP_ADDR
    mov bx, FW_CFG_SETUP_DATA << 8 | FW_CFG_SETUP_SIZE
    call load
    push ecx                ; setup size: 0 for a multiboot kernel
    push esi                ; the setup code's address
    mov ax, FW_CFG_KERNEL_ADDR
    mov bx, FW_CFG_KERNEL_DATA << 8 | FW_CFG_KERNEL_SIZE
    call load
    mov ax, FW_CFG_CMDLINE_ADDR
    mov bx, FW_CFG_CMDLINE_DATA << 8 | FW_CFG_CMDLINE_SIZE
    call load
    mov ax, FW_CFG_INITRD_ADDR
    mov bx, FW_CFG_INITRD_DATA << 8 | FW_CFG_INITRD_SIZE
    call load
    pop eax
    pop ecx
    jecxz multiboot
    shr eax, 4              ; segment of the setup code
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov sp, 0xfff0          ; just below the command line, above the heap
    add ax, 0x20
    push ax                 ; the kernel's real-mode entry: (seg + 0x20):0
    push word 0
    retf

; Multiboot: the "command line" item is the multiboot information structure. Enter
; 32-bit protected mode with flat segments, EAX = 0x2badb002, EBX = its address.
; The memory sizes in it are the BIOS's (INT 12h, INT 15h AX=E801h), which know what
; the firmware itself reserved: the host only guessed.
multiboot:
    int 0x12
    movzx ecx, ax
    push ecx                ; mem_lower in KiB
    mov ax, 0xe801
    int 0x15
    mov esi, -1
    jc .no_e801
    test ax, ax
    jnz .ax_bx
    mov ax, cx              ; some BIOSes answer in CX/DX only
    mov bx, dx
.ax_bx:
    movzx esi, ax           ; KiB between 1 and 16 MiB
    movzx edx, bx
    shl edx, 6              ; 64 KiB blocks above 16 MiB
    add esi, edx
.no_e801:
    cli
    pop ecx
    mov ax, FW_CFG_KERNEL_ENTRY
    call fw_read32
    mov edi, eax
    mov ax, FW_CFG_CMDLINE_ADDR
    call fw_read32
    mov ebx, eax
    xor eax, eax
    mov ax, cs
    shl eax, 4              ; the ROM's linear address (it runs at an unknown segment)
    lea edx, [eax + gdt]
    push edx
    push word gdt_end - gdt - 1
    mov bp, sp
    o32 lgdt [bp]
    add eax, pm32
    mov edx, cr0
    or dl, 1
    mov cr0, edx
    push dword 0x08
    push eax
    o32 retf

bits 32
pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov [ebx + 4], ecx      ; mem_lower
    cmp esi, -1
    je .entry
    mov [ebx + 8], esi      ; mem_upper
.entry:
    mov eax, 0x2badb002
    jmp edi

align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff   ; 0x08: flat 32-bit code
    dq 0x00cf92000000ffff   ; 0x10: flat data
gdt_end:

    times 511 - ($ - $$) db 0
    db 0                    ; checksum, set by bios/linuxboot.c
