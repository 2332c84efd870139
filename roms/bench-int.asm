; bench-int.asm — a boot sector for the interpreter benchmark: switches to 32-bit
; protected mode and runs an integer loop (ALU, shifts, memory, calls) for a fixed
; number of iterations, then writes 0 to port 0xF4 (isa-debug-exit) and halts.
; tests/bench-mips.sh runs it with -stats and prints MIPS.
bits 16
org 0x7c00
ITER equ 2000000
start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7c00
    lgdt [gdt_desc]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp 0x08:pm
bits 32
pm:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x90000
    mov ecx, ITER
    xor eax, eax
    mov ebx, 0x12345678
    mov edi, 0x100000
.loop:
    add eax, ebx
    xor eax, ecx
    rol ebx, 3
    mov edx, eax
    shr edx, 7
    and edx, 0xffc
    add [edi + edx], eax
    sub eax, [edi + edx + 4]
    call leaf
    imul eax, eax, 33
    dec ecx
    jnz .loop
    mov [result], eax
    xor eax, eax
    out 0xf4, eax
    cli
    hlt
leaf:
    inc ebx
    ret
align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff
    dq 0x00cf92000000ffff
gdt_end:
gdt_desc:
    dw gdt_end - gdt - 1
    dd gdt
result: dd 0
times 510 - ($ - $$) db 0
dw 0xaa55
times 65536 - ($ - $$) db 0
