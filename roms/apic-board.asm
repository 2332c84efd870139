; apic-board.asm — a boot disk that checks the board's interrupt wiring as Linux uses
; it, and reports on COM1 (then writes 0 to isa-debug-exit at 0xF4):
;  - real mode: CPUID reports the APIC, IA32_APIC_BASE reads FEE00900, and the BIOS
;    timer ticks (PIT -> 8259 -> LINT0 in ExtINT mode -> INTA through the APIC);
;  - protected mode, 8259 masked: the LVT LINT0/LINT1 entries SeaBIOS programmed, the
;    APIC version, the APIC timer one-shot and periodic (timed with PIT channel 2),
;    IOAPIC pin 2 carrying the PIT's IRQ 0 (pin 0 must stay silent), an NMI through
;    LINT1 (the dbt86 test injects it when it sees "waiting"; elsewhere it times out);
;  - IA32_APIC_BASE bit 11 cleared: CPUID no longer reports an APIC and the 8259's
;    INTR reaches the CPU directly.
; Every time is measured, and printed in whole milliseconds, so the output is the same
; under qemu-system-i386 (only the NMI line depends on someone injecting one).
bits 16
org 0x7c00
COM1 equ 0x3f8
APIC equ 0xfee00000
IOAPIC equ 0xfec00000
IDT equ 0x1000
STAGE2_SECTORS equ 6

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    cld
    mov ax, 0x0200 + STAGE2_SECTORS
    mov cx, 0x0002
    xor dh, dh
    mov bx, 0x7e00
    int 0x13
    jmp stage2

    times 510 - ($ - $$) db 0
    dw 0xaa55

stage2:
    mov eax, 1
    cpuid
    mov [rm_cpuid], edx
    mov ecx, 0x1b
    rdmsr
    mov [rm_msr], eax
    ; the BIOS timer (IRQ 0 -> INT 8) must tick: 3 ticks of 55 ms
    mov eax, [0x46c]
    add eax, 3
    sti
.tick:
    hlt
    cmp [0x46c], eax
    jb .tick
    cli
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
    mov al, 0xff            ; 8259s masked: the APIC and IOAPIC alone from here
    out 0x21, al
    out 0xa1, al
    call build_idt

    mov esi, msg_cpuid
    call puts
    mov esi, msg_yes
    test dword [rm_cpuid], 1 << 9
    jnz .c1
    mov esi, msg_no
.c1:
    call puts
    mov esi, msg_msr
    call puts
    mov eax, [rm_msr]
    call puthex_nl
    mov esi, msg_extint
    call puts

    mov esi, msg_lint0
    call puts
    mov eax, [APIC + 0x350]
    call puthex_nl
    mov esi, msg_lint1
    call puts
    mov eax, [APIC + 0x360]
    call puthex_nl
    mov esi, msg_version
    call puts
    mov eax, [APIC + 0x30]
    call puthex_nl

    mov dword [APIC + 0xf0], 0x1ff  ; software enable, spurious vector 0xFF
    mov dword [APIC + 0x80], 0      ; TPR 0

    ; one-shot: 10 000 000 bus clocks, divide by 1
    mov dword [APIC + 0x3e0], 0xb
    mov dword [APIC + 0x320], 0x40
    call pit2_start
    mov dword [APIC + 0x380], 10000000
    mov esi, n_timer
    mov ecx, 1
    call wait_for
    call pit2_ms
    push eax
    mov esi, msg_oneshot
    call puts
    pop eax
    call putdec
    mov esi, msg_ms
    call puts
    mov esi, msg_current
    call puts
    mov eax, [APIC + 0x390]
    call puthex_nl

    ; periodic: 125 000 bus clocks, divide by 16 = 2 ms; five of them
    mov dword [n_timer], 0
    mov dword [APIC + 0x3e0], 0x3
    mov dword [APIC + 0x320], 0x20040
    call pit2_start
    mov dword [APIC + 0x380], 125000
    mov esi, n_timer
    mov ecx, 5
    call wait_for
    call pit2_ms
    mov dword [APIC + 0x380], 0     ; stops the timer
    push eax
    mov esi, msg_periodic
    call puts
    pop eax
    call putdec
    mov esi, msg_ms
    call puts

    ; IOAPIC: version register, then pin 2 (PIT) -> 0x41 and pin 0 -> 0x42, edge
    mov esi, msg_ioapic_entries
    call puts
    mov dword [IOAPIC], 1
    mov eax, [IOAPIC + 0x10]
    shr eax, 16
    and eax, 0xff
    inc eax
    call putdec
    mov al, 10
    call putc
    mov dword [IOAPIC], 0x11
    mov dword [IOAPIC + 0x10], 0
    mov dword [IOAPIC], 0x10
    mov dword [IOAPIC + 0x10], 0x42
    mov dword [IOAPIC], 0x15
    mov dword [IOAPIC + 0x10], 0
    mov dword [IOAPIC], 0x14
    mov dword [IOAPIC + 0x10], 0x41
    mov al, 0x34                    ; PIT channel 0, rate generator, 1193 = 1 ms
    out 0x43, al
    mov al, 1193 & 0xff
    out 0x40, al
    mov al, 1193 >> 8
    out 0x40, al
    call pit2_start
    mov esi, n_pin2
    mov ecx, 5
    call wait_for
    call pit2_ms
    mov dword [IOAPIC], 0x14
    mov dword [IOAPIC + 0x10], 0x10041  ; masked again
    mov dword [IOAPIC], 0x10
    mov dword [IOAPIC + 0x10], 0x10042
    push eax
    mov esi, msg_pin2
    call puts
    pop eax
    call putdec
    mov esi, msg_pin0
    call puts
    mov eax, [n_pin0]
    call putdec
    mov al, 10
    call putc

    ; NMI through LINT1 (SeaBIOS set it to NMI); a 50 ms one-shot is the timeout
    mov esi, msg_nmi_wait
    call puts
    mov dword [n_timer], 0
    mov dword [APIC + 0x3e0], 0xb
    mov dword [APIC + 0x320], 0x40
    mov dword [APIC + 0x380], 50000000
.nmi:
    cli
    cmp dword [n_nmi], 0
    jne .nmi_done
    cmp dword [n_timer], 0
    jne .nmi_done
    sti
    hlt
    jmp .nmi
.nmi_done:
    mov dword [APIC + 0x380], 0
    mov esi, msg_nmi_yes
    cmp dword [n_nmi], 0
    jne .n1
    mov esi, msg_nmi_no
.n1:
    call puts

    ; IA32_APIC_BASE bit 11 off: no APIC any more, the 8259 drives INTR itself
    mov ecx, 0x1b
    rdmsr
    and eax, ~0x800
    wrmsr
    mov eax, 1
    cpuid
    mov esi, msg_cpuid_off
    call puts
    mov esi, msg_yes
    test edx, 1 << 9
    jz .c2
    mov esi, msg_yes_bad
.c2:
    call puts
    mov al, 0x11                    ; master 8259: vectors 0x50-0x57, only IRQ 0
    out 0x20, al
    mov al, 0x50
    out 0x21, al
    mov al, 0x04
    out 0x21, al
    mov al, 0x01
    out 0x21, al
    mov al, 0xfe
    out 0x21, al
    mov esi, n_pic
    mov ecx, 3
    call wait_for
    mov al, 0xff
    out 0x21, al
    mov esi, msg_pic
    call puts
    mov eax, [n_unexpected]
    call putdec
    mov al, 10
    call putc
    xor al, al
    out 0xf4, al
    cli
    hlt

; Wait with interrupts enabled until dword [esi] >= ecx (returns with IF = 0).
wait_for:
    cli
    cmp [esi], ecx
    jae .done
    sti
    hlt
    jmp wait_for
.done:
    ret

; PIT channel 2 in mode 0 from 0xFFFF, started by its gate (port 0x61 bit 0).
pit2_start:
    in al, 0x61
    and al, 0xfc
    out 0x61, al
    mov al, 0xb0
    out 0x43, al
    mov al, 0xff
    out 0x42, al
    out 0x42, al
    in al, 0x61
    or al, 1
    out 0x61, al
    ret

; eax = whole milliseconds channel 2 counted since pit2_start (rounded; < 55 ms).
pit2_ms:
    mov al, 0x80                    ; latch channel 2
    out 0x43, al
    in al, 0x42
    mov cl, al
    in al, 0x42
    mov ch, al
    movzx ecx, cx
    mov eax, 0xffff
    sub eax, ecx
    imul eax, eax, 1000
    add eax, 1193182 / 2
    xor edx, edx
    mov ecx, 1193182
    div ecx
    ret

; Every vector goes to `unexpected`, then the ones in use get their handlers.
build_idt:
    xor eax, eax
.l: mov ebx, isr_unexpected
    call set_gate
    inc eax
    cmp eax, 256
    jb .l
    mov eax, 2
    mov ebx, isr_nmi
    call set_gate
    mov eax, 0x40
    mov ebx, isr_timer
    call set_gate
    mov eax, 0x41
    mov ebx, isr_pin2
    call set_gate
    mov eax, 0x42
    mov ebx, isr_pin0
    call set_gate
    mov eax, 0x50
    mov ebx, isr_pic
    call set_gate
    mov eax, 0xff
    mov ebx, isr_spurious
    call set_gate
    ret

; eax = vector, ebx = handler: a 32-bit interrupt gate in the IDT at IDT
set_gate:
    lea edi, [IDT + eax * 8]
    mov [edi], bx
    mov word [edi + 2], 0x08
    mov word [edi + 4], 0x8e00
    shr ebx, 16
    mov [edi + 6], bx
    ret

isr_timer:
    inc dword [n_timer]
    mov dword [APIC + 0xb0], 0
    iretd
isr_pin2:
    inc dword [n_pin2]
    mov dword [APIC + 0xb0], 0
    iretd
isr_pin0:
    inc dword [n_pin0]
    mov dword [APIC + 0xb0], 0
    iretd
isr_nmi:
    inc dword [n_nmi]
    iretd
isr_pic:
    push eax
    inc dword [n_pic]
    mov al, 0x20
    out 0x20, al
    pop eax
    iretd
isr_spurious:
    iretd                           ; no EOI for the spurious vector
isr_unexpected:
    inc dword [n_unexpected]
    mov esi, msg_unexpected
    call puts
    mov al, 1
    out 0xf4, al
    cli
    hlt

putc:
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
puts:
    push eax
.l: lodsb
    test al, al
    jz .d
    call putc
    jmp .l
.d: pop eax
    ret
puthex_nl:
    push ecx
    mov ecx, 8
.l: rol eax, 4
    push eax
    and al, 0x0f
    add al, '0'
    cmp al, '9'
    jbe .p
    add al, 'A' - '0' - 10
.p: call putc
    pop eax
    loop .l
    mov al, 10
    call putc
    pop ecx
    ret
putdec:
    push ebx
    push ecx
    push edx
    mov ebx, 10
    xor ecx, ecx
.div:
    xor edx, edx
    div ebx
    push edx
    inc ecx
    test eax, eax
    jnz .div
.out:
    pop eax
    add al, '0'
    call putc
    loop .out
    pop edx
    pop ecx
    pop ebx
    ret

msg_cpuid: db "apic-board: cpuid apic: ", 0
msg_yes: db "yes", 10, 0
msg_no: db "no", 10, 0
msg_yes_bad: db "still yes", 10, 0
msg_msr: db "apic base msr: ", 0
msg_extint: db "real mode: bios timer ticks through lint0 (extint)", 10, 0
msg_lint0: db "lvt lint0: ", 0
msg_lint1: db "lvt lint1: ", 0
msg_version: db "apic version: ", 0
msg_oneshot: db "apic timer one-shot fired after ", 0
msg_ms: db " ms", 10, 0
msg_current: db "current count after it: ", 0
msg_periodic: db "apic timer periodic: 5 interrupts in ", 0
msg_ioapic_entries: db "ioapic redirection entries: ", 0
msg_pin2: db "ioapic pin 2: 5 pit interrupts in ", 0
msg_pin0: db " ms; pin 0 interrupts: ", 0
msg_nmi_wait: db "waiting for an nmi on lint1", 10, 0
msg_nmi_yes: db "nmi: delivered", 10, 0
msg_nmi_no: db "nmi: none (timeout)", 10, 0
msg_cpuid_off: db "apic disabled (msr bit 11): cpuid apic no longer reported: ", 0
msg_pic: db "8259 alone: 3 pit interrupts; unexpected vectors: ", 0
msg_unexpected: db "unexpected interrupt or exception", 10, 0

align 4
rm_cpuid: dd 0
rm_msr: dd 0
n_timer: dd 0
n_pin2: dd 0
n_pin0: dd 0
n_nmi: dd 0
n_pic: dd 0
n_unexpected: dd 0

align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff   ; 0x08 flat code
    dq 0x00cf92000000ffff   ; 0x10 flat data
gdt_desc:
    dw gdt_desc - gdt - 1
    dd gdt
idt_desc:
    dw 256 * 8 - 1
    dd IDT

    times 512 * (1 + STAGE2_SECTORS) - ($ - $$) db 0
