; exceptions.asm — a boot sector that makes the CPU fault on purpose and reports what
; it saw on COM1: #UD and #DE through the real-mode IVT, then in protected mode #GP
; with the selector as error code and #NP, through the IDT; finally a fault with no
; IDT entry that escalates to a triple fault (run with -no-reboot: exit code 2; QEMU
; exits too). The output is the same under QEMU.
bits 16
org 0x7c00
COM1 equ 0x3f8

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    cld
    ; the rest of the program is in sectors 2-3
    mov ax, 0x0202
    mov cx, 0x0002
    xor dh, dh
    mov bx, 0x7e00
    int 0x13
    jmp stage2

    times 510 - ($ - $$) db 0
    dw 0xaa55

stage2:
    ; #UD handler (vector 6) and #DE handler (vector 0) in the IVT
    mov word [6 * 4], rm_ud
    mov word [6 * 4 + 2], 0
    mov word [0 * 4], rm_de
    mov word [0 * 4 + 2], 0
    mov si, msg_start
    call puts
    ud2                     ; -> rm_ud, which skips the 2 bytes
    mov si, msg_after_ud
    call puts
    xor dx, dx
    mov ax, 1
    xor bx, bx
    div bx                  ; -> rm_de, which skips the 2-byte div
    mov si, msg_after_de
    call puts

    ; protected mode with an IDT for #NP (11) and #GP (13)
    lgdt [gdt_desc]
    lidt [idt_desc]
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
    mov esp, 0x7000
    mov ax, 0x48            ; beyond the GDT limit -> #GP(0x48)
    mov fs, ax
    mov ax, 0x18            ; not-present data segment -> #NP(0x18)
    mov fs, ax
    mov ax, 0x08            ; code segment without read permission in DS -> #GP(0x08)
    mov gs, ax
    mov esi, msg_triple
    call puts32
    lidt [null_idt]
    int3                    ; no IDT: #GP -> #DF -> triple fault
    mov esi, msg_survived
    call puts32
    hlt

; PM handler for #GP and #NP: print the vector and error code, skip the 2-byte
; "mov seg, ax" (8E E0 / 8E E8) and return
pm_gp:
    push eax
    mov al, 'G'
    jmp pm_fault
pm_np:
    push eax
    mov al, 'N'
pm_fault:
    call putc32
    mov esi, msg_errcode
    call puts32
    mov eax, [esp + 4]      ; error code
    call puthex32_32
    mov al, 10
    call putc32
    pop eax
    add esp, 4              ; drop the error code
    add dword [esp], 2      ; skip "mov seg, ax" (8E E0/E8)
    iretd

putc32:
    push edx
    push eax
    mov dx, COM1 + 5
.w: in al, dx
    test al, 0x20
    jz .w
    pop eax
    mov dx, COM1
    out dx, al
    pop edx
    ret
puts32:
    push eax
.l: lodsb
    test al, al
    jz .d
    call putc32
    jmp .l
.d: pop eax
    ret
puthex32_32:
    push ecx
    mov ecx, 8
.h: rol eax, 4
    push eax
    and al, 0x0f
    add al, '0'
    cmp al, '9'
    jbe .p
    add al, 7
.p: call putc32
    pop eax
    loop .h
    pop ecx
    ret

bits 16
rm_ud:
    mov si, msg_ud
    call puts
    push bp
    mov bp, sp
    add word [bp + 2], 2
    pop bp
    iret
rm_de:
    mov si, msg_de
    call puts
    push bp
    mov bp, sp
    add word [bp + 2], 2
    pop bp
    iret

puts:
    push ax
    push dx
.l: lodsb
    test al, al
    jz .d
    mov ah, al
    mov dx, COM1 + 5
.w: in al, dx
    test al, 0x20
    jz .w
    mov al, ah
    mov dx, COM1
    out dx, al
    jmp .l
.d: pop dx
    pop ax
    ret

align 8
gdt:
    dq 0
    dq 0x00cf98000000ffff   ; 0x08: 32-bit code, execute-only
    dq 0x00cf92000000ffff   ; 0x10: 32-bit data
    dq 0x00cf12000000ffff   ; 0x18: data, not present
gdt_end:
gdt_desc:
    dw gdt_end - gdt - 1
    dd gdt
idt:
    times 11 dq 0
    dw pm_np, 0x08, 0x8e00, 0   ; 11: #NP, 32-bit interrupt gate
    dq 0
    dw pm_gp, 0x08, 0x8e00, 0   ; 13: #GP
idt_end:
idt_desc:
    dw idt_end - idt - 1
    dd idt
null_idt:
    dw 0
    dd 0

msg_start: db "exceptions: start", 10, 0
msg_ud: db "real mode #UD caught", 10, 0
msg_after_ud: db "resumed after ud2", 10, 0
msg_de: db "real mode #DE caught", 10, 0
msg_after_de: db "resumed after div", 10, 0
msg_errcode: db "P fault, error code ", 0
msg_triple: db "now a triple fault", 10, 0
msg_survived: db "BUG: survived the triple fault", 10, 0

times 3 * 512 - ($ - $$) db 0
times 1024 * 1024 - ($ - $$) db 0
