; bench-loops.asm — the translator's micro-benchmark guest: a boot sector that enters
; 32-bit protected mode and runs one of four loops, chosen by the byte at offset 0x1B0
; of the sector (tests/bench-loops.sh patches copies of the image): 0 integer ALU, 1 memory
; loads/stores over 1 MiB, 2 calls and returns, 3 self-modifying code (the loop
; rewrites an immediate of its own body every iteration); 4 runs no loop (the
; benchmark subtracts that run's boot and exit). Then it writes the result to port
; 0x402 (debugcon) and exits through isa-debug-exit (port 0xF4).
bits 16
org 0x7c00
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
    movzx eax, byte [selector]
    jmp [loops + eax * 4]

integer:                      ; 8 instructions an iteration, registers only
    mov ecx, 40000000
    xor eax, eax
    mov ebx, 0x12345678
.l: add eax, ebx
    xor eax, ecx
    lea edx, [eax + ebx * 2]
    sub ebx, edx
    or edx, 3
    and eax, edx
    dec ecx
    jnz .l
    jmp done

memory:                       ; loads, stores and read-modify-writes over 1 MiB
    mov ecx, 30000000
    mov edi, 0x100000
    xor eax, eax
    xor edx, edx
.l: mov esi, edx
    and esi, 0xffffc
    add eax, [edi + esi]
    mov [edi + esi + 4], eax
    add [edi + esi + 8], ecx
    add edx, 4100
    dec ecx
    jnz .l
    jmp done

calls:                        ; nested calls and returns
    mov ecx, 20000000
    xor eax, eax
.l: call f1
    dec ecx
    jnz .l
    jmp done
f1: add eax, ecx
    call f2
    ret
f2: xor eax, 0x55
    push eax
    pop ebx
    ret

smc:                          ; each iteration patches the immediate of .imm
    mov ecx, 300000
    xor eax, eax
.l: mov [.imm + 1], cl
.imm:
    add eax, strict dword 0x11 ; opcode 05 + imm32: .imm + 1 is the immediate
    dec ecx
    jnz .l
    jmp done

none:                         ; the baseline: boot and exit only
    xor eax, eax
    jmp done

done:
    mov dx, 0x402             ; the result, as 8 hex digits and a newline
    mov ebx, eax
    mov ecx, 8
.h: rol ebx, 4
    mov al, bl
    and al, 15
    add al, '0'
    cmp al, '9'
    jbe .o
    add al, 'a' - '9' - 1
.o: out dx, al
    dec ecx
    jnz .h
    mov al, 10
    out dx, al
    xor eax, eax
    out 0xf4, eax
    cli
    hlt

loops: dd integer, memory, calls, smc, none

align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff
    dq 0x00cf92000000ffff
gdt_desc:
    dw gdt_desc - gdt - 1
    dd gdt

times 0x1b0 - ($ - $$) db 0
selector: db 0
times 510 - ($ - $$) db 0
dw 0xaa55
