; demo.asm — dbt86's default guest and boot-disk test: a hard-disk image whose boot
; sector loads a second stage through the BIOS, which then exercises what a PC BIOS and
; board provide and prints a report on the screen (INT 10h) and on COM1:
;   INT 10h (mode query, teletype), INT 13h (parameters, extensions, LBA read),
;   INT 15h E820 memory map, INT 16h keyboard status, INT 1Ah RTC and tick count,
;   the 16550 UART in loopback, the A20 gate (port 0x92), and a round trip
;   real mode -> 32-bit protected mode -> 16-bit protected mode -> real mode.
; At the end it writes the number of failed checks to port 0xF4 (isa-debug-exit, when
; present: exit status (n << 1) | 1) and powers off through the PIIX4 ACPI PM device.
; Build: nasm -f bin -o demo.img demo.asm.  The output is the same under QEMU.

bits 16
org 0x7c00

STAGE2_SECTORS equ 8
COM1 equ 0x3f8

; ---------------------------------------------------------------- boot sector
boot:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    sti
    cld
    mov [boot_drive], dl
    ; load the second stage with INT 13h AH=02h (CHS: cylinder 0, head 0, sector 2..)
    mov ax, 0x0200 | STAGE2_SECTORS
    mov cx, 0x0002
    xor dh, dh
    mov dl, [boot_drive]
    mov bx, stage2
    int 0x13
    jc .fail
    jmp stage2
.fail:
    mov si, msg_loadfail
.p: lodsb
    test al, al
    jz .h
    mov ah, 0x0e
    int 0x10
    jmp .p
.h: cli
    hlt
    jmp .h

msg_loadfail: db "demo: cannot load stage 2", 0
boot_drive: db 0

times 510 - ($ - $$) db 0
dw 0xaa55

; ---------------------------------------------------------------- stage 2
stage2:
    call serial_init
    mov si, msg_banner
    call puts

    ; --- INT 10h: current video mode
    mov ah, 0x0f
    int 0x10
    mov si, msg_vmode
    call puts
    call puthex8
    call newline
    cmp al, 3
    call check_eq

    ; --- INT 13h: drive parameters
    mov si, msg_int13
    call puts
    mov ah, 0x08
    mov dl, [boot_drive]
    push es
    int 0x13
    pop es
    call check_nc
    mov si, msg_heads
    call puts
    mov al, dh
    inc al
    call puthex8
    mov si, msg_spt
    call puts
    mov al, cl
    and al, 0x3f
    call puthex8
    call newline

    ; --- INT 13h extensions present, LBA read of sector 0
    mov ah, 0x41
    mov bx, 0x55aa
    mov dl, [boot_drive]
    int 0x13
    call check_nc
    cmp bx, 0xaa55
    call check_eq
    mov si, dap
    mov ah, 0x42
    mov dl, [boot_drive]
    int 0x13
    call check_nc
    mov si, msg_lba
    call puts
    mov ax, [0x9000 + 510]
    call puthex16
    call newline
    cmp ax, 0xaa55
    call check_eq

    ; --- INT 15h E820: print the entries below 1 MiB and the BIOS ROM verbatim; the
    ; RAM above 1 MiB only as a rounded size, because where the firmware puts its
    ; tables there depends on how large they are (QEMU and dbt86 differ there)
    mov si, msg_e820
    call puts
    xor ebx, ebx
    mov dword [ram_kb], 0
.e820:
    mov eax, 0xe820
    mov edx, 0x534d4150
    mov ecx, 20
    mov di, e820_buf
    int 0x15
    jc .e820_done
    cmp eax, 0x534d4150
    jne .e820_done
    cmp dword [e820_buf + 4], 0
    jne .e820_print
    cmp dword [e820_buf], 0x100000
    jb .e820_print
    cmp dword [e820_buf], 0xfff00000
    jae .e820_print
    cmp dword [e820_buf + 16], 1
    jne .e820_next
    mov eax, [e820_buf + 8]
    shr eax, 10
    add [ram_kb], eax
    jmp .e820_next
.e820_print:
    mov si, msg_e820_entry
    call puts
    mov eax, [e820_buf + 4]
    call puthex32
    mov eax, [e820_buf]
    call puthex32
    mov al, ' '
    call putc
    mov eax, [e820_buf + 12]
    call puthex32
    mov eax, [e820_buf + 8]
    call puthex32
    mov al, ' '
    call putc
    mov al, [e820_buf + 16]
    call puthex8
    call newline
.e820_next:
    test ebx, ebx
    jnz .e820
.e820_done:
    mov si, msg_ramkb
    call puts
    mov eax, [ram_kb]
    add eax, 512
    shr eax, 10
    call puthex16
    call newline
    cmp dword [ram_kb], 1024
    call check_ae

    ; --- INT 16h: no key waiting
    mov ah, 0x01
    int 0x16
    mov si, msg_kbd
    call puts
    jz .nokey
    mov si, msg_key
    call puts
    jmp .kbd_done
.nokey:
    mov si, msg_nokey
    call puts
.kbd_done:

    ; --- INT 1Ah: RTC time is valid BCD; the tick count advances
    mov ah, 0x02
    int 0x1a
    call check_nc
    mov al, ch
    call check_bcd
    mov al, cl
    call check_bcd
    mov al, dh
    call check_bcd
    mov ah, 0x00
    int 0x1a
    mov [ticks], dx
    mov cx, 100
.wait_tick:
    hlt                     ; wait for IRQ 0
    mov ah, 0x00
    int 0x1a
    cmp dx, [ticks]
    jne .ticked
    loop .wait_tick
.ticked:
    mov si, msg_timer
    call puts
    cmp dx, [ticks]
    call check_ne
    mov si, msg_ok
    call puts

    ; --- UART loopback
    mov dx, COM1 + 4
    mov al, 0x10            ; MCR: loopback
    out dx, al
    mov dx, COM1
    mov al, 0x5a
    out dx, al
    mov dx, COM1 + 5
    in al, dx
    test al, 1              ; data ready
    call check_nz
    mov dx, COM1
    in al, dx
    cmp al, 0x5a
    call check_eq
    mov dx, COM1 + 4
    mov al, 0x03            ; DTR RTS, loopback off
    out dx, al
    mov si, msg_uart
    call puts

    ; --- A20: with the gate off, 0x100000 aliases 0x000000
    in al, 0x92
    or al, 2
    out 0x92, al
    call a20_aliases
    call check_z_is_0       ; enabled: no alias
    in al, 0x92
    and al, ~2
    out 0x92, al
    call a20_aliases
    call check_z_is_1       ; disabled: aliases
    in al, 0x92
    or al, 2
    out 0x92, al
    mov si, msg_a20
    call puts

    ; --- protected mode round trip
    cli
    lgdt [gdt_desc]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp 0x08:pm32
bits 32
pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x7c00
    ; write and read back above 1 MiB
    mov dword [0x200000], 0x12345678
    mov eax, [0x200000]
    mov [pm_value], eax
    ; a message straight into the text screen, row 24
    mov esi, msg_pmscreen
    mov edi, 0xb8000 + 24 * 160
.scr:
    lodsb
    test al, al
    jz .scr_done
    mov ah, 0x1f
    stosw
    jmp .scr
.scr_done:
    jmp 0x18:pm16
bits 16
pm16:
    mov ax, 0x20
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, cr0
    and al, ~1
    mov cr0, eax
    jmp 0:real_again
real_again:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    sti
    mov si, msg_pm
    call puts
    mov eax, [pm_value]
    call puthex32
    call newline
    cmp dword [pm_value], 0x12345678
    call check_eq

    ; --- report
    call newline
    mov al, [failures]
    test al, al
    jnz .failed
    mov si, msg_pass
    call puts
    jmp .report_done
.failed:
    call puthex8
    mov si, msg_fail
    call puts
.report_done:
    ; isa-debug-exit, when the machine has one
    movzx eax, byte [failures]
    out 0xf4, eax
    call acpi_poweroff
    mov si, msg_halt
    call puts
.halt:
    cli
    hlt
    jmp .halt

; ---------------------------------------------------------------- helpers

; Sets ZF when the byte at 0x100000 aliases the one at 0 (A20 masked).
a20_aliases:
    push ds
    push es
    xor ax, ax
    mov ds, ax
    mov ax, 0xffff
    mov es, ax
    mov byte [0x0600], 0x11
    mov byte [es:0x0610], 0x22
    cmp byte [0x0600], 0x22
    pop es
    pop ds
    ret

; Power off through the PIIX4 PM function (00:01.3, 8086:7113): PMBASE is in config
; register 0x40; writing SLP_EN with SLP_TYP 0 to PM1a_CNT (PMBASE+4) enters S5.
acpi_poweroff:
    mov eax, 0x80000b00     ; bus 0, device 1, function 3, register 0
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    cmp eax, 0x71138086
    jne .none
    mov eax, 0x80000b40
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    and ax, 0xffc0
    jz .none
    add ax, 4
    mov dx, ax
    mov ax, 0x2000          ; SLP_EN, SLP_TYP = 0 (S5)
    out dx, ax
.none:
    ret

check_eq:
    je check_ok
    jmp check_failed
check_ne:
    jne check_ok
    jmp check_failed
check_nz:
    jnz check_ok
    jmp check_failed
check_nc:
    jnc check_ok
    jmp check_failed
check_ae:
    jae check_ok
    jmp check_failed
check_z_is_0:
    jnz check_ok
    jmp check_failed
check_z_is_1:
    jz check_ok
    jmp check_failed
check_ok:
    ret
check_failed:
    pushf
    push si
    inc byte [failures]
    mov si, msg_check_failed
    call puts
    pop si
    popf
    ret

; AL must be a valid BCD byte
check_bcd:
    push ax
    mov ah, al
    and al, 0x0f
    cmp al, 9
    ja .bad
    shr ah, 4
    cmp ah, 9
    ja .bad
    pop ax
    ret
.bad:
    pop ax
    jmp check_failed

serial_init:
    push ax
    push dx
    mov dx, COM1 + 3
    mov al, 0x80            ; DLAB
    out dx, al
    mov dx, COM1
    mov al, 1               ; 115200 baud
    out dx, al
    mov dx, COM1 + 1
    xor al, al
    out dx, al
    mov dx, COM1 + 3
    mov al, 0x03            ; 8N1
    out dx, al
    mov dx, COM1 + 2
    mov al, 0x07            ; FIFOs on and cleared
    out dx, al
    mov dx, COM1 + 4
    mov al, 0x03
    out dx, al
    pop dx
    pop ax
    ret

; putc: AL to the screen (INT 10h teletype) and to COM1 (LF becomes CR LF on screen)
putc:
    pusha
    mov bl, al
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    mov dx, COM1
    mov al, bl
    out dx, al
    cmp bl, 10
    jne .screen
    mov ax, 0x0e0d
    xor bh, bh
    int 0x10
    mov bl, 10
.screen:
    mov al, bl
    mov ah, 0x0e
    xor bh, bh
    int 0x10
    popa
    ret

puts:
    push ax
    push si
.l: lodsb
    test al, al
    jz .d
    call putc
    jmp .l
.d: pop si
    pop ax
    ret

newline:
    push ax
    mov al, 10
    call putc
    pop ax
    ret

puthex4:
    push ax
    and al, 0x0f
    add al, '0'
    cmp al, '9'
    jbe .d
    add al, 'a' - '9' - 1
.d: call putc
    pop ax
    ret

puthex8:
    push ax
    push ax
    shr al, 4
    call puthex4
    pop ax
    call puthex4
    pop ax
    ret

puthex16:
    push ax
    xchg al, ah
    call puthex8
    xchg al, ah
    call puthex8
    pop ax
    ret

puthex32:
    push eax
    ror eax, 16
    call puthex16
    ror eax, 16
    call puthex16
    pop eax
    ret

; ---------------------------------------------------------------- data
align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff   ; 0x08: 32-bit code, 4 GiB
    dq 0x00cf92000000ffff   ; 0x10: 32-bit data, 4 GiB
    dq 0x00009a000000ffff   ; 0x18: 16-bit code, 64 KiB
    dq 0x000092000000ffff   ; 0x20: 16-bit data, 64 KiB
gdt_end:
gdt_desc:
    dw gdt_end - gdt - 1
    dd gdt

dap:                         ; INT 13h AH=42h disk address packet: LBA 0 -> 0:9000
    db 16, 0
    dw 1
    dw 0x9000, 0
    dq 0

failures: db 0
ticks: dw 0
ram_kb: dd 0
pm_value: dd 0
e820_buf: times 20 db 0

msg_banner: db 10, "dbt86 demo disk: checking the BIOS and the board", 10, 0
msg_vmode: db "int 10h video mode: ", 0
msg_int13: db "int 13h drive parameters:", 0
msg_heads: db " heads ", 0
msg_spt: db " sectors/track ", 0
msg_lba: db "int 13h LBA read of sector 0: signature ", 0
msg_e820: db "int 15h e820 map below 1 MiB and above 4095 MiB (base length type):", 10, 0
msg_e820_entry: db "  ", 0
msg_ramkb: db "usable RAM above 1 MiB (MiB, rounded): ", 0
msg_kbd: db "int 16h keyboard: ", 0
msg_nokey: db "no key waiting", 10, 0
msg_key: db "a key is waiting", 10, 0
msg_timer: db "int 1ah RTC and timer tick: ", 0
msg_ok: db "ok", 10, 0
msg_uart: db "uart loopback: ok", 10, 0
msg_a20: db "a20 gate: ok", 10, 0
msg_pm: db "protected mode round trip: read back ", 0
msg_pmscreen: db "written from 32-bit protected mode", 0
msg_check_failed: db " <- CHECK FAILED", 10, 0
msg_pass: db "ALL CHECKS PASSED", 10, 0
msg_fail: db " CHECKS FAILED", 10, 0
msg_halt: db "no ACPI power-off: halted", 10, 0

times (1 + STAGE2_SECTORS) * 512 - ($ - $$) db 0
; pad the image to 1 MiB so it looks like a (tiny) hard disk
times 1024 * 1024 - ($ - $$) db 0
