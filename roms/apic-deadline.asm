; apic-deadline.asm — not a boot sector: tests/test_apic_board.cc copies it to 0:7000
; and starts the CPU there in real mode, without firmware. It moves the local APIC to
; 0x90000 (reachable from real mode), arms a 100 us one-shot APIC timer and spins, then
; arms it again and halts; the timer's handler records the TSC (virtual ns on dbt86).
; The test checks that each interrupt came 100 us after its arming, although the
; machine was asked to run 50 ms at once: a timer the guest arms in the middle of a
; run must still fire on time, whether the CPU keeps running or halts.
; Results at 0:6000, 8 bytes each: TSC at the first arming, in the first interrupt, at
; the second arming, in the second interrupt.
bits 16
org 0x7000

start:
    cli
    xor ax, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7000
    mov word [es:0x40 * 4], timer_isr
    mov word [es:0x40 * 4 + 2], 0
    mov ecx, 0x1b                   ; IA32_APIC_BASE: 0x90000, enabled, BSP
    mov eax, 0x00090900
    xor edx, edx
    wrmsr
    mov ax, 0x9000
    mov ds, ax
    mov dword [0xf0], 0x1ff         ; software enable
    mov dword [0x320], 0x40         ; timer: one-shot, vector 0x40
    mov dword [0x3e0], 0xb          ; divide by 1
    mov di, 0x6000
    call arm
    sti
.spin:
    cmp di, 0x6010                  ; the handler moved on: first interrupt taken
    jne .spin
    cli
    call arm
    sti
.idle:
    hlt
    cmp di, 0x6020
    jne .idle
    cli
    hlt                             ; halted with IF = 0: the run ends

; TSC to [es:di], di += 8, then 100 000 bus clocks = 100 us on the timer
arm:
    rdtsc
    mov [es:di], eax
    mov [es:di + 4], edx
    add di, 8
    mov dword [0x380], 100000
    ret

timer_isr:
    push eax
    push edx
    rdtsc
    mov [es:di], eax
    mov [es:di + 4], edx
    add di, 8
    mov dword [0xb0], 0             ; EOI
    pop edx
    pop eax
    iret
