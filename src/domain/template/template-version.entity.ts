import { Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { jsonColumn, timeColumn } from '../../db/columns';
import type { Channel } from '../channel/channel.enum';
import type { ChannelContent } from '../channel/channel-content';

/** One published version of a template; never changed once written. */
@Entity('template_versions')
@Unique('UQ_template_versions_template_version', ['templateId', 'version'])
@Index('IDX_template_versions_template', ['templateId'])
export class TemplateVersion {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'varchar', length: 36, name: 'template_id' })
  templateId!: string;

  @Column({ type: 'int' })
  version!: number;

  @Column(jsonColumn('channels'))
  channels!: Channel[];

  @Column({ type: 'varchar', length: 100, nullable: true })
  topic!: string | null;

  @Column(jsonColumn('content'))
  content!: ChannelContent;

  @Column(timeColumn('published_at'))
  publishedAt!: Date;
}
