; multiboot-fake.asm — a fake Multiboot kernel (a.out kludge: the header gives the load
; addresses, no ELF) for the direct-boot tests (test_linuxboot). Entered in flat 32-bit
; protected mode, it reports on COM1 the magic in EAX and, from the multiboot
; information structure at EBX, the memory sizes, command line and first module, then
; writes 0x11 to isa-debug-exit (port 0xf4). The same file runs under QEMU -kernel.

bits 32
org 0x100000

COM1 equ 0x3f8
MB_MAGIC equ 0x1badb002
MB_FLAGS equ 0x00010002     ; memory information wanted; address fields valid

header:
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)
    dd header               ; header_addr
    dd header               ; load_addr
    dd load_end             ; load_end_addr
    dd bss_end              ; bss_end_addr
    dd start                ; entry_addr

start:
    mov esp, stack_top
    mov ebp, ebx            ; the multiboot information
    push eax
    mov esi, s_begin
    call puts
    pop eax
    call hex32
    mov esi, s_flags
    call puts
    mov eax, [ebp]
    and eax, 0x0d           ; mem, cmdline, mods (a loader may set more)
    call hex32
    mov esi, s_lower
    call puts
    mov eax, [ebp + 4]
    call hex32
    mov esi, s_upper
    call puts
    mov eax, [ebp + 8]
    call hex32
    mov esi, s_cmdline
    call puts
    mov esi, [ebp + 16]
    call puts
    mov esi, s_mods
    call puts
    mov eax, [ebp + 20]
    call hex32
    cmp dword [ebp + 20], 0
    je .end
    mov edi, [ebp + 24]     ; the first module entry
    mov esi, s_modsize
    call puts
    mov eax, [edi + 4]
    sub eax, [edi]
    call hex32
    mov esi, s_moddata
    call puts
    mov esi, [edi]
    mov ecx, 16
.byte:
    lodsb
    call putc
    loop .byte
    mov esi, s_modcmd
    call puts
    mov esi, [edi + 8]
    call puts
    mov esi, s_bss          ; the loader must have zeroed the bss
    call puts
    mov al, '1'
    cmp dword [bss_start], 0
    je .z
    mov al, '0'
.z:
    call putc
.end:
    mov esi, s_end
    call puts
    mov al, 0x11
    out 0xf4, al
.halt:
    hlt
    jmp .halt

puts:                       ; esi, NUL-terminated
    lodsb
    test al, al
    jz .done
    call putc
    jmp puts
.done:
    ret

putc:
    push edx
    push eax
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop eax
    mov dx, COM1
    out dx, al
    pop edx
    ret

hex32:
    mov ecx, 8
.digit:
    rol eax, 4
    push eax
    and al, 15
    add al, '0'
    cmp al, '9'
    jbe .d
    add al, 'A' - '9' - 1
.d:
    call putc
    pop eax
    loop .digit
    ret

s_begin:   db 13, 10, 'MULTIBOOT eax=', 0
s_flags:   db ' flags&0D=', 0
s_lower:   db 13, 10, 'mem_lower=', 0
s_upper:   db ' mem_upper=', 0
s_cmdline: db 13, 10, 'cmdline=[', 0
s_mods:    db ']', 13, 10, 'mods=', 0
s_modsize: db ' size=', 0
s_moddata: db ' data=[', 0
s_modcmd:  db '] string=[', 0
s_bss:     db ']', 13, 10, 'bss zeroed=', 0
s_end:     db 13, 10, 'END', 13, 10, 0

load_end:

section .bss                ; not in the file: zeroed by the loader up to bss_end_addr
bss_start: resb 4096
stack_top:
bss_end:
